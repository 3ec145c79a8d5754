"""``python -m fraudmine.cli``."""

from fraudmine.cli import main

raise SystemExit(main())
