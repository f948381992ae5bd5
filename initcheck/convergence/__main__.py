"""``python -m initcheck.convergence`` (same as ``initcheck convergence``)."""

from .command import main

raise SystemExit(main())
