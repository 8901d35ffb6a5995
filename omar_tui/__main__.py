"""Allow ``python -m omar_tui``, the same entry point as the ``omar-tui`` script."""

from omar_tui.cli.main import main

raise SystemExit(main())
