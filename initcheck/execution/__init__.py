"""How a run executes beyond one process: :mod:`.workers` (``initcheck check --jobs N``).  Importing it
imports nothing heavy."""
