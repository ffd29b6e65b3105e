"""`python -m dataflare` runs the command line."""

import sys

from dataflare.cli import main

sys.exit(main())
