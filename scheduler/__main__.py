"""``python -m scheduler``: see :mod:`scheduler.cli`."""

import sys

from scheduler.cli import main

sys.exit(main())
