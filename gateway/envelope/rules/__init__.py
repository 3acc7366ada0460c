"""Validation rules, one module each; ``ALL`` is the order they run in (policy first: see docs/envelope.md §4)."""
