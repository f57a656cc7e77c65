"""``python -m dnpsim`` is the same as the ``dnpsim`` command."""

from dnpsim.cli import main

raise SystemExit(main())
