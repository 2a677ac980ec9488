import sys

from turnloom.tui.launch import main

sys.exit(main())
