"""Command-line tools that run beside the app (the status reference server)."""
