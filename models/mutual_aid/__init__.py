"""在职职工互助保障 (spec 70, seed 004; issue 18): the mutual-aid line — the protection year and its
settings (years.py), insurance codes, their units, handlers and change requests (codes.py), batches
and their rosters (batches.py); the operations in code_ops.py, batch_ops.py and roster_ops.py."""
