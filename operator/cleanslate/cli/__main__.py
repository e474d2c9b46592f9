"""``python -m cleanslate.cli`` is the ``cleanslate`` command."""

from cleanslate.cli import main

raise SystemExit(main())
