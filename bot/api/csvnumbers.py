"""Phone numbers from a CSV file, as spreadsheets export them.

The numbers are read from the column headed ``number``, ``phone``, ``mobile``,
``to`` or ``msisdn`` (any case), else from the first column; a first row that
holds no digits is taken as a header. Cells are passed on as written: the
server normalises them (with ``--region`` for national numbers) and refuses
the whole list, naming the row, if one is not a phone number.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

__all__ = ["HEADERS", "read_numbers"]

HEADERS = ("number", "phone", "phone_number", "mobile", "to", "msisdn", "cell")


def read_numbers(path: str | Path) -> list[str]:
    """The numbers in a CSV file (UTF-8, with or without Excel's BOM); empty cells skipped."""
    text = Path(path).read_bytes().decode("utf-8-sig")
    rows = [row for row in csv.reader(io.StringIO(text)) if any(cell.strip() for cell in row)]
    if not rows:
        return []
    column = 0
    first = [cell.strip().lower() for cell in rows[0]]
    named = [i for i, cell in enumerate(first) if cell in HEADERS]
    if named:
        column, rows = named[0], rows[1:]
    elif not any(ch.isdigit() for ch in rows[0][0]):
        rows = rows[1:]
    return [row[column].strip() for row in rows if len(row) > column and row[column].strip()]
