"""``python -m marketplace_client`` runs the command line."""

from marketplace_client.cli import main

raise SystemExit(main())
