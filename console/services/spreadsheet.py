"""CSV files people open in a spreadsheet: cells that cannot run as formulas, one line at a time for streaming."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable

# A spreadsheet runs a cell that starts with one of these as a formula (OWASP's list: tab and carriage return too).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# Excel reads a CSV file as UTF-8 only when it begins with a byte order mark; without one, Chinese names are garbled.
BOM = "\ufeff"


def csv_cell(value: object) -> str:
    """The value as the text of a cell; one that would start a formula is made plain text by a leading quote."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


class CsvLines:
    """Turns rows into CSV lines, each ready to send on its own."""

    def __init__(self) -> None:
        self._buffer = io.StringIO()
        self._writer = csv.writer(self._buffer)

    def __call__(self, values: Iterable[object]) -> str:
        """One row as a CSV line, its cells defused."""
        self._writer.writerow([csv_cell(value) for value in values])
        line = self._buffer.getvalue()
        self._buffer.seek(0)
        self._buffer.truncate()
        return line
