"""`python -m dataflare.demo` runs the demo (see `dataflare.demo.run_demo`)."""

import sys

from dataflare.demo.run_demo import main

sys.exit(main())
