"""``python -m initcheck.convergence`` (same as ``initcheck convergence``)."""

from .cli import main

raise SystemExit(main())
