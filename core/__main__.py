import sys

from turnloom.core.cli import main

sys.exit(main())
