"""Run WattDesk from a source checkout: ``python main.py demo`` is ``wattdesk demo``."""

import sys

from app.cli import main

if __name__ == "__main__":
    sys.exit(main())
