"""Pure rules: no database, no Flask. Each function raises ValueError with a Chinese message."""
