"""Hostile values for the edge's tests and the fuzz."""

from __future__ import annotations

HUGE = "99999999999999999999"  # past a 64-bit integer, let alone the id columns' 32 bits
PAST_INT4 = str(2**31)  # fits SQLite's integer and a Python int, not PostgreSQL's `integer`


def nested(depth: int) -> str:
    """A JSON text of `depth` nested arrays: valid JSON that Python's json recurses through."""
    return "[" * depth + "]" * depth
