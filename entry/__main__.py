"""`python -m turnloom`: the same as the `turnloom` command (the TUI with no command, a subcommand otherwise)."""

import sys

from turnloom.tui.launch import main

sys.exit(main())
