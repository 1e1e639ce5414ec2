"""Readers and writers: Excel/CSV, PDF notices, status providers."""
