"""Hostile values for the edge's tests and the fuzz: constants, and the Hypothesis strategies the fuzz draws from."""

from __future__ import annotations

import functools

from hypothesis import strategies as st

HUGE = "99999999999999999999"  # past a 64-bit integer, let alone the id columns' 32 bits
PAST_INT4 = str(2**31)  # fits SQLite's integer and a Python int, not PostgreSQL's `integer`
NUL = "\x00"
SURROGATE = "\ud800"  # a lone surrogate: Python text, but no UTF-8 (nor PostgreSQL) can carry it
PAST_INT_DIGITS = "9" * 5000  # more digits than int() converts (Python's 4300-digit limit)


def nested(depth: int) -> str:
    """A JSON text of `depth` nested arrays: valid JSON that Python's json recurses through."""
    return "[" * depth + "]" * depth


# Ids in a URL: what no row can have, and digits that are not ASCII digits.
BAD_IDS = (HUGE, PAST_INT4, PAST_INT_DIGITS, "-1", "0", "00001", "1.5", "0x1", "1e3", "١", "²", "𝟙", "Ⅻ", " 1", NUL)

# Text that has broken parsers, databases and pages before: numbers past every range, digits int() refuses,
# Unicode at the edges, markup, SQL, format strings, paths, blanks.
SPECIAL_TEXTS = (
    "",
    " ",
    "\t\r\n",
    HUGE,
    PAST_INT4,
    "-" + PAST_INT4,
    PAST_INT_DIGITS,
    "-1",
    "0",
    "1e999",
    "NaN",
    "²",
    "①",
    "١٢",
    "𝟙",
    "½",
    "\ufffd",
    "\ufeff",
    "\u202e",
    "\U0010ffff",
    "👩‍👩‍👧",
    "a//b",
    "../../etc/passwd",
    "%00",
    "%s%n{0}",
    "<script>alert(1)</script>",
    "' OR 1=1 --",
    "null",
    "9999-12-31",
    "0001-01-01",
    "2024-02-30",
    "x" * 100_000,
)

# Characters the default text strategy never draws: NUL, lone surrogates, controls.
ODD_CHARACTERS = st.sampled_from([NUL, SURROGATE, "\udfff", "\udc80", "\x7f", "\x1b", "\u0085", "\u2028"])


@functools.cache
def chance(one_in: int) -> st.SearchStrategy[bool]:
    """True once in `one_in` draws; False is the simplest, so the first examples take the common path."""
    return st.integers(0, one_in - 1).map(lambda drawn: drawn == one_in - 1)


@functools.cache
def texts() -> st.SearchStrategy[str]:
    """Any text: short arbitrary Unicode, with NUL and lone surrogates mixed in, the special texts, numbers."""
    return st.one_of(
        st.text(max_size=30),
        st.text(st.one_of(st.characters(), ODD_CHARACTERS), max_size=20),
        st.sampled_from(SPECIAL_TEXTS),
        st.integers().map(str),
        st.integers(min_value=2**31 - 2, max_value=2**80).map(str),
    )


@functools.cache
def json_values() -> st.SearchStrategy[object]:
    """Any JSON value: scalars of every type (integers of any size, NaN, hostile text), lists and objects."""
    scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), texts())
    return st.recursive(
        scalars, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(texts(), inner, max_size=3)
    )


# Bodies no JSON encoder writes: depth past every limit, numbers past int()'s digit limit, broken or not JSON at all.
RAW_BODIES = (
    b"",
    b"{",
    b"not json",
    b"\xff\xfe\x00",
    b"\xed\xa0\x80",  # a UTF-8-encoded surrogate: invalid UTF-8
    b'{"a": 1, "a": 2}',
    b'{"code": ' + PAST_INT_DIGITS.encode() + b"}",
    b"[" + PAST_INT_DIGITS.encode() + b"]",
    nested(40).encode(),
    nested(100_000).encode(),
    ('{"a":' * 5_000 + "1" + "}" * 5_000).encode(),
    b'{"code": "\\u0000"}',  # NUL, escaped as JSON writes it
    b"\x00" * 64,
)
