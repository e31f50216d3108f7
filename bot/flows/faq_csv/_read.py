"""Reading a spreadsheet's CSV into checked rows, every problem reported on its row."""

from __future__ import annotations

import csv
import io
import re

from bot.flows.errors import did_you_mean
from bot.flows.faq_csv._model import COLUMNS, SEP, FaqRow, Report, clean
from bot.matching.normalize import normalize

__all__ = ["read_csv"]

REQUIRED = ("question", "answer")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*$")  # the loader's rule for names


def read_csv(data: bytes, name: str) -> list[FaqRow]:
    """Parse and check a spreadsheet's CSV: UTF-8 with or without BOM, CRLF or LF.

    Args:
        data: the file's bytes.
        name: the file name problems are reported with.

    Raises:
        FaqCsvError: with every problem, by row.
    """
    bad = Report(name)
    excel = "save it from Excel as 'CSV UTF-8 (Comma delimited)'"
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        bad(1, f"the file is UTF-16 text; {excel}")
        bad.raise_any()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        bad(line, f"the file is not UTF-8 text (byte 0x{data[exc.start]:02X}); {excel}")
        bad.raise_any()
    if not text.strip():
        bad(1, f"the file is empty; expected a header row: {','.join(COLUMNS)}")
        bad.raise_any()
    records: list[list[str]] = []
    try:
        records.extend(csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text), strict=True))
    except csv.Error as exc:
        bad(len(records) + 1, f"malformed CSV: {exc}")
        bad.raise_any()
    columns = _header(records[0], records[1:], bad)
    bad.raise_any()

    rows: list[FaqRow] = []
    ids: dict[str, int] = {}
    width = len(records[0])
    for number, cells in enumerate(records[1:], start=2):
        if not any(cell.strip() for cell in cells):
            continue  # spreadsheets leave empty rows behind
        if any(cell.strip() for cell in cells[width:]):
            msg = f"the row has {len(cells)} cells but the header has {width}; is a comma missing its quotes?"
            bad(number, msg)
            continue
        values = {c: clean(cells[i]) if i < len(cells) else "" for c, i in columns.items()}
        row = _row(number, values, bad)
        if row is None:
            continue
        if row.faq_id in ids:
            bad(number, f"id '{row.faq_id}' is also used by row {ids[row.faq_id]}")
            continue
        if row.faq_id:
            ids[row.faq_id] = number
        rows.append(row)
    if not rows and not bad.problems:
        bad(2, "no FAQ rows after the header")
    bad.raise_any()
    return rows


def _delimiter(text: str) -> str:
    """``,`` unless the header reads better split on ``;`` or tab (Excel in many locales)."""
    first = text.split("\n", 1)[0]

    def known(sep: str) -> int:
        return sum(1 for cell in first.split(sep) if cell.strip().strip('"').strip().lower() in COLUMNS)

    return max((",", ";", "\t"), key=known)  # ``max`` keeps the first of equals: ","


def _header(header: list[str], body: list[list[str]], bad: Report) -> dict[str, int]:
    columns: dict[str, int] = {}
    for index, raw in enumerate(header):
        column = raw.strip().lower()
        if not column:
            # Excel writes a trailing empty column when a cell to the right was ever formatted.
            if any(index < len(cells) and cells[index].strip() for cells in body):
                bad(1, f"column {index + 1} has values but no name; expected one of: {', '.join(COLUMNS)}")
        elif column not in COLUMNS:
            hint = did_you_mean(column, COLUMNS)
            bad(1, f"unknown column '{raw.strip()}'{hint}; expected: {', '.join(COLUMNS)}")
        elif column in columns:
            bad(1, f"column '{column}' appears twice (columns {columns[column] + 1} and {index + 1})")
        else:
            columns[column] = index
    missing = [c for c in REQUIRED if c not in columns]
    if missing and not bad.problems:
        bad(1, f"missing column '{missing[0]}'; the header row needs at least: {', '.join(REQUIRED)}")
    return columns


def _row(number: int, values: dict[str, str], bad: Report) -> FaqRow | None:
    """One data row, or ``None`` after reporting what is wrong with it."""
    before = len(bad.problems)
    faq_id = values.get("id", "")
    if faq_id and not _NAME.match(faq_id):
        bad(number, f"id '{faq_id}' should use only letters, digits, '_' and '-'")
    question = values["question"]
    if not question:
        bad(number, "question is empty")
    elif "\n" in question:
        bad(number, "question has a line break; only the answer may have several lines")
    alternates = _split(values.get("alternates"))
    seen = {normalize(question): "the question"}
    for alternate in alternates or ():
        key = normalize(alternate)
        if "\n" in alternate:
            bad(number, f"alternate '{alternate}' has a line break")
        elif key and key in seen:
            bad(number, f"alternate '{alternate}' repeats {seen[key]}")
        seen.setdefault(key, f"alternate '{alternate}'")
    answer = values["answer"]
    if not answer:
        bad(number, "answer is empty")
    if len(bad.problems) > before:
        return None
    return FaqRow(number, faq_id, question, alternates, answer, _split(values.get("media")))


def _split(cell: str | None) -> tuple[str, ...] | None:
    if cell is None:
        return None
    return tuple(part.strip() for part in cell.split(SEP) if part.strip())
