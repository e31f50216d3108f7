"""Phone numbers from a CSV file, as spreadsheets and contact managers export them.

- Delimiter: a comma, unless the file says otherwise: Excel's ``sep=;`` first
  line, or a first line with no comma but semicolons (how Excel writes "CSV"
  where the comma is the decimal mark) or tabs.
- Header: the first row is one when none of its cells has 3 digits or more.
  Its column headed like ``number``, ``phone``, ``Phone Number``,
  ``Mobile Phone``, ``Cell #``, ``to`` or ``msisdn`` (any case, any
  punctuation) holds the numbers.
- Otherwise (no such header, or none at all) the column where most cells look
  like phone numbers, the leftmost on a tie: names before numbers, or Google
  Contacts' ``Phone 1 - Value``, are read right.

Cells are passed on as written: the server normalises them (with ``--region``
for national numbers) and refuses the whole list, naming the entry, if one is
not a phone number. ``read_numbers_at`` keeps each number's line in the file,
so the commands can name it as ``FILE:LINE`` rather than the request's
``numbers[i]``.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

__all__ = ["HEADERS", "read_numbers", "read_numbers_at"]

# Header names (lower case, words separated by one space) of a column of numbers.
HEADERS = (
    "number", "numbers", "phone", "phone number", "phone no", "phones", "mobile", "mobile number", "mobile phone",
    "mobile no", "cell", "cell number", "cell phone", "cellphone", "telephone", "telephone number", "tel", "to",
    "msisdn", "sms", "sms number", "e164",
)
_WORDS = re.compile(r"[^a-z0-9]+")
# What a phone number written by hand or by a spreadsheet looks like: 7 to 20 digits
# among the punctuation people put in them.
_PHONE_LIKE = re.compile(r"\+?[0-9 ()./\-]+")


def _header_name(cell: str) -> str:
    return " ".join(_WORDS.sub(" ", cell.lower()).split())


def _phone_like(cell: str) -> bool:
    text = cell.strip()
    return bool(_PHONE_LIKE.fullmatch(text)) and 7 <= sum(ch.isdigit() for ch in text) <= 20


def _delimiter(text: str) -> tuple[str, str, int]:
    """The delimiter, the text without an Excel ``sep=`` line, and how many lines that took off."""
    stripped = text.lstrip("\r\n")
    lines = stripped.split("\n", 1)
    first = lines[0].rstrip("\r")
    if first.lower().startswith("sep=") and len(first) == 5:
        # The blank lines before it and the sep= line itself: the file's lines start after them.
        return first[4], lines[1] if len(lines) > 1 else "", text[:len(text) - len(stripped)].count("\n") + 1
    if "," not in first:
        for candidate in (";", "\t"):
            if candidate in first:
                return candidate, text, 0
    return ",", text, 0


def read_numbers(path: str | Path) -> list[str]:
    """The numbers in a CSV file (UTF-8, with or without Excel's BOM); empty cells skipped."""
    return [number for number, _ in read_numbers_at(path)]


def read_numbers_at(path: str | Path) -> list[tuple[str, int]]:
    """``read_numbers`` with each number's line in the file (1-based; a quoted cell may span lines)."""
    delimiter, text, skipped = _delimiter(Path(path).read_bytes().decode("utf-8-sig"))
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    rows: list[list[str]] = []
    lines: list[int] = []
    start = reader.line_num
    for row in reader:
        if any(cell.strip() for cell in row):
            rows.append(row)
            lines.append(skipped + start + 1)  # the row began on the line after the previous row ended
        start = reader.line_num
    if not rows:
        return []
    column = None
    # A header: no cell with 3 digits or more ("Phone 1 - Value" is one; "12345", a number
    # too short, is data the server refuses by name, never a row silently dropped).
    if all(sum(ch.isdigit() for ch in cell) < 3 for cell in rows[0]):
        named = [i for i, cell in enumerate(rows[0]) if _header_name(cell) in HEADERS]
        column = named[0] if named else None
        rows, lines = rows[1:], lines[1:]
    if column is None:
        width = max((len(row) for row in rows), default=1)
        likely = [sum(1 for row in rows if len(row) > i and _phone_like(row[i])) for i in range(width)]
        column = likely.index(max(likely))  # the leftmost of the most phone-like columns (0 when none is)
    return [(row[column].strip(), line) for row, line in zip(rows, lines, strict=True)
            if len(row) > column and row[column].strip()]
