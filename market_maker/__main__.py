"""``python -m market_maker``: the command line."""

import sys

from market_maker.cli import main

sys.exit(main())
