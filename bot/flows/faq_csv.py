"""A flow's FAQs as a spreadsheet: read the CSV, plan the edit, write it safely.

Many teams keep their FAQ in a spreadsheet; ``textdesk faq import`` merges one
into a flow file and ``textdesk faq export`` writes it back. The flow file is a
hand-edited document, so an import changes as little text as it can:

* Only the ``faqs:`` section is touched. Everything before and after it is copied
  byte for byte, and so is every FAQ the import does not change, together with
  the blank lines and comments between FAQs (the "gaps").
* A changed FAQ is edited in place with ruamel.yaml's round-trip loader, so its
  own comments, key order and quoting survive; only the keys whose values
  changed are rewritten. New FAQs are appended, styled like their neighbours.
* Text is never left to YAML 1.1 guessing: a value that a YAML 1.1 reader would
  take for a boolean, number or null (``yes``, ``off``, ``1.5``, ``null``) is
  quoted.
* The new text is loaded with the real loader and read back before anything is
  written: a loader error inside an imported FAQ is reported on its CSV row, and
  a value that would not read back exactly as the CSV says is a bug we refuse to
  write. The file is then replaced atomically (temp file + ``os.replace``).

Matching rows to FAQs: by ``id``; a row without one by its question, normalised
as the matcher sees it (a row with an id the flow does not have may match an FAQ
without an ``id`` that way, and gives it its id). Rows that match nothing are new
FAQs, appended in row order (an id is made from the question when the row has
none). FAQs the CSV does not list are kept unless ``prune``; existing FAQs keep
their order in the file.
An optional column that is absent (``id``, ``alternates``, ``media``) leaves
that field of existing FAQs as it is; a present, empty cell clears it.

Row numbers are the spreadsheet's: the header is row 1.
"""

from __future__ import annotations

import contextlib
import csv
import difflib
import io
import os
import posixpath
import re
import stat
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import YAMLError as RuamelError
from ruamel.yaml.scalarstring import DoubleQuotedScalarString, LiteralScalarString, SingleQuotedScalarString
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from yaml.resolver import Resolver

from bot.flows.errors import FlowLoadError, did_you_mean
from bot.flows.loader import load_flow_text
from bot.flows.model import Faq, Flow
from bot.matching.normalize import normalize

__all__ = [
    "COLUMNS",
    "FaqCsvError",
    "FaqRow",
    "ImportPlan",
    "Problem",
    "export_csv",
    "plan_import",
    "read_csv",
    "write_atomically",
]

COLUMNS = ("id", "question", "alternates", "answer", "media")
REQUIRED = ("question", "answer")
SEP = "|"  # between alternates, and between media, in one cell
_KEY_ORDER = ("id", "question", "also", "answer", "media")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*$")  # the loader's rule for names
_AUTO_ID = re.compile(r"^faq-[0-9]+$")  # the loader names an FAQ without 'id' like this
_STR = "tag:yaml.org,2002:str"
# Line breaks to YAML (which would fold or split the text) and a byte-order mark.
_ESCAPE = re.compile("[\x85\u2028\u2029\ufeff]")
_RESOLVER = Resolver()


@dataclass(frozen=True, slots=True)
class Problem:
    """Why a file cannot be imported or exported: ``faqs.csv:7: answer is empty``."""

    file: str
    row: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.row}: {self.message}"


class FaqCsvError(Exception):
    """Every problem found; nothing was written."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = sorted(problems, key=lambda p: (p.file, p.row))
        super().__init__("\n".join(str(p) for p in self.problems))


@dataclass(frozen=True, slots=True)
class FaqRow:
    """One FAQ as the spreadsheet gives it; ``None`` means the column is absent."""

    row: int
    faq_id: str  # "" when the row gives none
    question: str
    alternates: tuple[str, ...] | None
    answer: str
    media: tuple[str, ...] | None


@dataclass(frozen=True, slots=True)
class ImportPlan:
    """The flow's new text and what changed, FAQ by FAQ (by id)."""

    text: str
    added: tuple[str, ...] = ()
    updated: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    unchanged: tuple[str, ...] = ()
    kept: tuple[str, ...] = ()  # not in the CSV, left in the flow (no prune)

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated or self.removed)


# --- reading the CSV ------------------------------------------------------------------------------


class _Report:
    """Collects problems for one file."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.problems: list[Problem] = []

    def __call__(self, row: int, message: str) -> None:
        self.problems.append(Problem(self.file, row, message))

    def raise_any(self, extra: Sequence[Problem] = ()) -> None:
        if self.problems or extra:
            raise FaqCsvError([*self.problems, *extra])


def read_csv(data: bytes, name: str) -> list[FaqRow]:
    """Parse and check a spreadsheet's CSV: UTF-8 with or without BOM, CRLF or LF.

    Args:
        data: the file's bytes.
        name: the file name problems are reported with.

    Raises:
        FaqCsvError: with every problem, by row.
    """
    bad = _Report(name)
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
        values = {c: _clean(cells[i]) if i < len(cells) else "" for c, i in columns.items()}
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


def _header(header: list[str], body: list[list[str]], bad: _Report) -> dict[str, int]:
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


def _row(number: int, values: dict[str, str], bad: _Report) -> FaqRow | None:
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


def _clean(value: str) -> str:
    """Text as compared and written: ``\\n`` line breaks, no spaces at line ends or around."""
    lines = value.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return "\n".join(line.rstrip() for line in lines).strip()


def _split(cell: str | None) -> tuple[str, ...] | None:
    if cell is None:
        return None
    return tuple(part.strip() for part in cell.split(SEP) if part.strip())


def _media_key(ref: str) -> str:
    """The form the loader keeps a media reference in (``./a.png`` is ``a.png``)."""
    ref = ref.strip()
    return ref if "://" in ref else posixpath.normpath(ref)


# --- where the FAQs are in the flow file ----------------------------------------------------------
#
# Offsets below are character indexes into the flow text (PyYAML marks carry them). An item's
# *body* runs from the start of the line holding its dash to the end of the line holding its last
# value; its *gap* is what follows up to the next item (blank lines, comments). Bodies of
# unchanged FAQs and all gaps are copied as they are.


@dataclass(slots=True)
class _Item:
    start: int
    end: int
    gap_end: int
    dash_col: int
    explicit_id: str | None


@dataclass(slots=True)
class _Section:
    start: int  # the 'faqs:' line
    head_end: int  # just past that line
    end: int  # the next top-level key's line, or the end of the text
    head: str = ""  # replaces text[start:head_end] when the section is new or was 'faqs: []'
    items: list[_Item] = field(default_factory=list)
    dash_col: int = 2
    indent: tuple[int, int] = (4, 2)  # ruamel's (sequence, offset), as README's example writes lists
    separator: str = "\n"  # a blank line between FAQs
    styles: dict[str, str | None] = field(default_factory=lambda: {"question": None, "answer": '"'})
    flow_lists: dict[str, bool] = field(default_factory=lambda: {"also": False, "media": True})


def _section(text: str, file: str) -> _Section:
    """Find the 'faqs:' section, its FAQs' bodies and gaps, and how the file writes them."""
    root = yaml.compose(text, Loader=yaml.SafeLoader)
    if not isinstance(root, MappingNode) or root.flow_style:
        raise FaqCsvError([Problem(file, 1, "the flow is not a block of 'key: value' lines")])
    pairs = root.value
    where = [n for n, (key, _) in enumerate(pairs) if isinstance(key, ScalarNode) and key.value == "faqs"]
    if not where:
        head = "faqs:\n" if text.endswith("\n\n") else "\nfaqs:\n"
        return _Section(len(text), len(text), len(text), head=head)
    key, value = pairs[where[0]]
    start = _line_start(text, key.start_mark.index)
    after = where[0] + 1
    end = _line_start(text, pairs[after][0].start_mark.index) if after < len(pairs) else len(text)
    if not isinstance(value, SequenceNode) or (value.flow_style and value.value):
        line = key.start_mark.line + 1
        msg = "write 'faqs:' as a list of '- id: ...' blocks to import into it"
        raise FaqCsvError([Problem(file, line, msg)])
    if not value.value:  # faqs: []
        head_end = _line_end(text, value.end_mark.index)
        return _Section(start, head_end, head_end, head="faqs:\n")
    section = _Section(start, _line_end(text, key.end_mark.index), end)
    for node in value.value:
        dash = node.start_mark.index - 1
        while dash >= 0 and text[dash] in " \t\n":
            dash -= 1
        line = node.start_mark.line + 1
        if dash < 0 or text[dash] != "-" or not isinstance(node, MappingNode):
            raise FaqCsvError([Problem(file, line, "write each FAQ as a block starting '- id: ...'")])
        if _starts_before(node, dash):
            # An alias (*name) brings a node from earlier in the file: its text is not this FAQ's.
            raise FaqCsvError([Problem(file, line, "this FAQ uses a YAML alias (*name); write the text out")])
        line_start = _line_start(text, dash)
        item = _Item(line_start, _line_end(text, _content_end(text, node)), end, dash - line_start, _id_of(node))
        if section.items:
            section.items[-1].gap_end = line_start
        section.items.append(item)
        _learn_style(section, key.start_mark.column, node)
    section.dash_col = section.items[0].dash_col
    gaps = [text[i.end : i.gap_end] for i in section.items[:-1]]
    blank = sum(1 for gap in gaps if any(not line.strip() for line in gap.split("\n")[:-1]))
    section.separator = "\n" if 2 * blank >= len(gaps) else ""
    return section


def _learn_style(section: _Section, top_col: int, item: MappingNode) -> None:
    """Take indentation and quoting from the file, so new FAQs look like their neighbours."""
    if section.items[0] is section.items[-1]:
        first_key = item.value[0][0].start_mark.column if item.value else top_col + 4
        section.indent = (first_key - top_col, section.items[0].dash_col - top_col)
    for key, value in item.value:
        if key.value in ("question", "answer") and isinstance(value, ScalarNode):
            section.styles[key.value] = value.style
        elif key.value in ("also", "media") and isinstance(value, SequenceNode):
            section.flow_lists[key.value] = bool(value.flow_style)
            if value.value and isinstance(value.value[0], ScalarNode):
                section.styles[key.value] = value.value[0].style
            if key.value == "also" and not value.flow_style and value.value:
                column = key.start_mark.column
                section.indent = (value.value[0].start_mark.column - column, value.start_mark.column - column)


def _starts_before(node: Node, index: int) -> bool:
    if node.start_mark.index < index:
        return True
    if isinstance(node, MappingNode):
        return any(_starts_before(k, index) or _starts_before(v, index) for k, v in node.value)
    if isinstance(node, SequenceNode):
        return any(_starts_before(child, index) for child in node.value)
    return False


def _content_end(text: str, node: Node) -> int:
    """Index just past the node's last character of content (not the comments after it)."""
    if isinstance(node, MappingNode) and not node.flow_style and node.value:
        return _content_end(text, node.value[-1][1])
    if isinstance(node, SequenceNode) and not node.flow_style and node.value:
        return _content_end(text, node.value[-1])
    end: int = node.end_mark.index
    if isinstance(node, ScalarNode) and node.style in ("|", ">"):
        # A block scalar's end mark is past the blank lines that follow it.
        start: int = node.start_mark.index
        end = start + len(text[start:end].rstrip())
    return end


def _line_start(text: str, index: int) -> int:
    return text.rfind("\n", 0, index) + 1


def _line_end(text: str, index: int) -> int:
    """Just past the line break of the line holding ``text[index - 1]``."""
    found = text.find("\n", max(index - 1, 0))
    return len(text) if found < 0 else found + 1


# --- planning an import ---------------------------------------------------------------------------


@dataclass(slots=True)
class _Entry:
    """One FAQ of the result, with the values it must read back with."""

    name: str  # how reports call it: the id, or the loader's automatic one
    question: str
    alternates: tuple[str, ...]
    answer: str
    media: tuple[str, ...]
    row: FaqRow | None = None
    old: int | None = None  # its index among the flow's FAQs before the import
    new_id: str | None = None  # an id to write: a new FAQ's, or one the row gives an FAQ without one
    changed: bool = True


@dataclass(slots=True)
class _Piece:
    body: str
    gap: str
    entry: _Entry | None = None


def plan_import(text: str, flow: Flow, rows: Sequence[FaqRow], csv_name: str, *, prune: bool = False) -> ImportPlan:
    """Merge ``rows`` into the ``faqs:`` section of a flow's text.

    Args:
        text: the flow file's text (``\\n`` line breaks); ``flow`` must be what it loads as.
        flow: the loaded flow, for its current FAQ values.
        rows: from ``read_csv``.
        csv_name: the CSV's name, for problems.
        prune: remove FAQs the CSV does not list (otherwise they are kept).

    Raises:
        FaqCsvError: rows that conflict with each other or with the flow, or a result that
            would not load or not read back as the CSV says. Nothing should be written then.
    """
    if not text.endswith("\n"):
        text += "\n"
    section = _section(text, flow.path)
    olds = list(flow.faqs)
    if len(olds) != len(section.items):  # pragma: no cover - the loader rejects any FAQ it skips
        raise FaqCsvError([Problem(flow.path, 1, "the flow's FAQs could not be lined up with its text")])
    bad = _Report(csv_name)
    claims = _match(rows, section, olds, bad)
    entries: list[_Entry] = []
    removed: list[str] = []
    for index, faq in enumerate(olds):
        row = claims.get(index)
        if row is None and prune:
            removed.append(faq.faq_id)
        elif row is None:
            entries.append(_Entry(faq.faq_id, *_values(faq), old=index, changed=False))
        else:
            entries.append(_merge(row, index, faq, section.items[index].explicit_id))
    handled = {row.row for row in claims.values()} | {p.row for p in bad.problems}  # updates, or in conflict
    used = {i.explicit_id for i in section.items if i.explicit_id} | {r.faq_id for r in rows if r.faq_id}
    for row in rows:
        if row.row not in handled:
            new_id = row.faq_id or _new_id(row.question, used)
            used.add(new_id)
            media = row.media or ()
            entries.append(_Entry(new_id, row.question, row.alternates or (), row.answer, media, row, new_id=new_id))
    _check_phrasings(entries, olds, flow.path, bad)
    bad.raise_any()

    pieces = _assemble(text, section, entries, bad)
    bad.raise_any()
    new_text, spans = _join(text, section, pieces)
    _verify(new_text, flow, entries, spans, bad)
    return ImportPlan(
        text=new_text,
        added=tuple(e.name for e in entries if e.old is None),
        updated=tuple(e.name for e in entries if e.old is not None and e.row is not None and e.changed),
        removed=tuple(removed),
        unchanged=tuple(e.name for e in entries if e.row is not None and e.old is not None and not e.changed),
        kept=tuple(e.name for e in entries if e.row is None),
    )


def _values(faq: Faq) -> tuple[str, tuple[str, ...], str, tuple[str, ...]]:
    return _clean(faq.question), tuple(_clean(p) for p in faq.phrasings[1:]), _clean(faq.answer), faq.media


def _match(rows: Sequence[FaqRow], section: _Section, olds: list[Faq], bad: _Report) -> dict[int, FaqRow]:
    """Which existing FAQ (by index) each row updates: by id, else by normalised question."""
    by_id = {item.explicit_id: n for n, item in enumerate(section.items) if item.explicit_id}
    by_question: dict[str, int] = {}
    for n, faq in enumerate(olds):
        by_question.setdefault(normalize(faq.question), n)
    claims: dict[int, FaqRow] = {}
    for row in rows:
        index = by_id.get(row.faq_id) if row.faq_id else None
        if index is None:
            # A row naming an id the flow does not have may still give one to an FAQ without.
            same = by_question.get(normalize(row.question))
            if same is not None and (not row.faq_id or section.items[same].explicit_id is None):
                index = same
        if index is None:
            continue
        if index in claims:
            bad(row.row, f"updates the same FAQ '{olds[index].faq_id}' as row {claims[index].row}")
            continue
        claims[index] = row
    return claims


def _merge(row: FaqRow, index: int, faq: Faq, explicit_id: str | None) -> _Entry:
    question, alternates, answer, media = _values(faq)
    entry = _Entry(
        explicit_id or row.faq_id or faq.faq_id,
        row.question,
        alternates if row.alternates is None else row.alternates,
        row.answer,
        media if row.media is None else row.media,
        row,
        index,
        row.faq_id if row.faq_id and explicit_id is None else None,
    )
    same_media = [_media_key(m) for m in entry.media] == [_media_key(m) for m in media]
    entry.changed = (
        entry.new_id is not None
        or (entry.question, entry.alternates, entry.answer) != (question, alternates, answer)
        or not same_media
    )
    return entry


def _new_id(question: str, used: set[str]) -> str:
    """A readable id from the question: ``Do you ship to Canada?`` -> ``do-you-ship-to-canada``."""
    words: list[str] = []
    for word in normalize(question).split():
        if words and len("-".join([*words, word])) > 40:
            break
        words.append(word)
    base = "-".join(words)[:40].strip("-") or "faq"
    candidate, n = base, 2
    while candidate in used or _AUTO_ID.match(candidate):
        candidate, n = f"{base}-{n}", n + 1
    return candidate


def _check_phrasings(entries: list[_Entry], olds: list[Faq], flow_file: str, bad: _Report) -> None:
    """No text may be a question or alternate of two FAQs: the matcher could not tell them apart.

    Rows are checked in row order, then the FAQs the CSV does not list, so a clash is
    reported on the later row, or on the row that clashes with an FAQ of the flow.
    """
    owners: dict[str, tuple[_Entry, str]] = {}
    ordered = sorted((e for e in entries if e.row), key=lambda e: e.row.row if e.row else 0)
    for entry in [*ordered, *(e for e in entries if e.row is None)]:
        for what, text in (("question", entry.question), *(("alternate", a) for a in entry.alternates)):
            key = normalize(text)
            if not key:
                continue  # no letters or digits: the matcher ignores it
            other, said = owners.setdefault(key, (entry, f"{what} '{text}'"))
            if other is entry or other.row is None:
                continue  # two FAQs the CSV does not list: not this import's business
            if entry.row is not None:
                bad(entry.row.row, f"{what} '{text}' is also a question or alternate of row {other.row.row}")
            elif entry.old is not None:
                where = f"{flow_file}:{olds[entry.old].pos.line}"
                bad(other.row.row, f"{said} is also a question or alternate of FAQ '{entry.name}' ({where}), "
                    "which the CSV does not list; change one of them, or remove that FAQ with --prune")


def _assemble(text: str, section: _Section, entries: list[_Entry], bad: _Report) -> list[_Piece]:
    """The section as pieces: the 'faqs:' line, then every FAQ's body and the gap after it.

    A removed FAQ takes its body away; its gap replaces the one before it when it holds a
    comment (a heading for the FAQs after it) or ends the section, and is dropped otherwise.
    """
    items = section.items
    head_gap = text[section.head_end : items[0].start] if items else ""
    pieces = [_Piece(section.head or text[section.start : section.head_end], head_gap)]
    by_old = {e.old: e for e in entries if e.old is not None}
    yaml_rt = _yaml(section.indent)
    for index, item in enumerate(items):
        gap = text[item.end : item.gap_end]
        entry = by_old.get(index)
        if entry is None:
            if index == len(items) - 1 or "#" in gap:
                pieces[-1].gap = gap
            continue
        body = text[item.start : item.end]
        if entry.changed:
            body = _render_update(body, item.dash_col, entry, section, yaml_rt, bad)
        pieces.append(_Piece(body, gap, entry))
    added = [e for e in entries if e.old is None]
    if added:
        tail = pieces[-1].gap
        pieces[-1].gap = section.separator if len(pieces) > 1 else ""
        for entry in added:
            pieces.append(_Piece(_render_new(entry, section, yaml_rt), section.separator, entry))
        pieces[-1].gap = tail
    return pieces


def _join(text: str, section: _Section, pieces: list[_Piece]) -> tuple[str, list[tuple[int, int, _Entry]]]:
    """The new text, and the lines (first, last; 1-based) each FAQ's body now occupies."""
    out = [text[: section.start]]
    line = text.count("\n", 0, section.start) + 1
    spans: list[tuple[int, int, _Entry]] = []
    for piece in pieces:
        lines = piece.body.count("\n")
        if piece.entry is not None:
            spans.append((line, line + lines - 1, piece.entry))
        out += [piece.body, piece.gap]
        line += lines + piece.gap.count("\n")
    out.append(text[section.end :])
    return "".join(out), spans


def _verify(text: str, flow: Flow, entries: list[_Entry], spans: list[tuple[int, int, _Entry]], bad: _Report) -> None:
    """Load the new text with the real loader and read every FAQ back, before anything is written."""
    try:
        result = load_flow_text(text, flow.path, flow.media_dir)
    except FlowLoadError as exc:
        elsewhere: list[Problem] = []
        for finding in exc.findings:
            if finding.severity != "error":
                continue
            rows = [e.row.row for first, last, e in spans if e.row and first <= finding.pos.line <= last]
            if rows:
                bad(rows[0], finding.message)
            else:
                elsewhere.append(Problem(flow.path, finding.pos.line, f"after the import: {finding.message}"))
        bad.raise_any(elsewhere)
        raise  # pragma: no cover - a load error always has an error finding
    for entry, faq in zip(entries, result.faqs, strict=True):
        question, alternates, answer, media = _values(faq)
        wrong = [
            what
            for what, ok in (
                ("id", entry.new_id is None or faq.faq_id == entry.new_id),
                ("question", question == entry.question),
                ("alternates", alternates == entry.alternates),
                ("answer", answer == entry.answer),
                ("media", [_media_key(m) for m in media] == [_media_key(m) for m in entry.media]),
            )
            if not ok
        ]
        if wrong:  # a bug in the writer: never write a file that says something else
            msg = f"FAQ '{entry.name}' would not read back as written ({', '.join(wrong)}); please report this bug"
            bad(entry.row.row if entry.row else 1, msg)
    bad.raise_any()


# --- writing YAML ---------------------------------------------------------------------------------


def _yaml(indent: tuple[int, int]) -> YAML:
    yaml_rt = YAML(typ="rt")
    yaml_rt.preserve_quotes = True
    yaml_rt.width = 1 << 20  # never fold a long answer over several lines
    yaml_rt.indent(mapping=2, sequence=indent[0], offset=indent[1])
    return yaml_rt


def _render_update(body: str, dash_col: int, entry: _Entry, section: _Section, yaml_rt: YAML, bad: _Report) -> str:
    """Edit one FAQ in place: its comments, key order and quoting stay; changed values are replaced."""
    try:
        # Where ruamel will put the dash: comments then keep their columns.
        document = yaml_rt.load(_reindent(body, section.indent[1] - dash_col))
    except RuamelError as exc:
        row = entry.row.row if entry.row else 1
        bad(row, f"FAQ '{entry.name}' cannot be edited automatically ({exc.__class__.__name__}); edit it by hand")
        return body
    item: CommentedMap = document[0]
    if entry.new_id is not None:
        _put(item, "id", _scalar(entry.new_id, None))
    _set_text(item, "question", entry.question)
    _set_list(item, "also", entry.alternates, section, _clean)
    _set_text(item, "answer", entry.answer)
    _set_list(item, "media", entry.media, section, _media_key)
    return _dump(document, dash_col, section, yaml_rt)


def _render_new(entry: _Entry, section: _Section, yaml_rt: YAML) -> str:
    """A new FAQ in the README's key order, quoted and indented like the FAQs before it."""
    item = CommentedMap()
    item["id"] = _scalar(entry.name, None)
    item["question"] = _scalar(entry.question, section.styles.get("question"))
    if entry.alternates:
        item["also"] = _new_list("also", entry.alternates, section)
    item["answer"] = _scalar(entry.answer, section.styles.get("answer"))
    if entry.media:
        item["media"] = _new_list("media", entry.media, section)
    return _dump(CommentedSeq([item]), section.dash_col, section, yaml_rt)


def _dump(document: Any, dash_col: int, section: _Section, yaml_rt: YAML) -> str:
    """Dump a one-item list and move it to the section's column (ruamel puts the dash at ``offset``)."""
    stream = io.StringIO()
    yaml_rt.dump(document, stream)
    return _reindent(stream.getvalue(), dash_col - section.indent[1])


def _reindent(text: str, by: int) -> str:
    """Move every line ``by`` columns right (left when negative); empty lines stay empty."""
    out = []
    for line in text.split("\n"):
        if by >= 0:
            out.append(" " * by + line if line else line)
        else:
            out.append(line[min(-by, len(line) - len(line.lstrip(" "))) :])
    return "\n".join(out)


def _set_text(item: CommentedMap, key: str, value: str) -> None:
    old = item.get(key)
    if isinstance(old, str) and _clean(old) == value:
        return
    _put(item, key, _scalar(value, _style_of(old)))


def _set_list(
    item: CommentedMap, key: str, values: tuple[str, ...], section: _Section, same: Callable[[str], str]
) -> None:
    """Edit a list with the fewest changes, so comments on untouched entries stay with them.

    ``same`` gives the form two entries are compared in (media: ``./a.png`` is ``a.png``).
    """
    old = item.get(key)
    wanted = [same(v) for v in values]
    if not values:
        if key in item:
            del item[key]
        return
    if not isinstance(old, CommentedSeq):  # absent, or a single text ('also: text' is allowed)
        if not (isinstance(old, str) and [same(old)] == wanted):
            _put(item, key, _new_list(key, values, section))
        return
    current = [same(str(v)) for v in old]
    matcher = difflib.SequenceMatcher(a=current, b=wanted, autojunk=False)
    for tag, i1, i2, j1, j2 in reversed(matcher.get_opcodes()):
        if tag == "equal":
            continue
        if i2 - i1 == j2 - j1:
            for i, j in zip(range(i1, i2), range(j1, j2), strict=True):
                old[i] = _scalar(values[j], _style_of(old[i]))
            continue
        style = _style_of(old[i1]) if i1 < i2 else section.styles.get(key)
        del old[i1:i2]
        for k, value in enumerate(values[j1:j2]):
            old.insert(i1 + k, _scalar(value, style))


def _new_list(key: str, values: tuple[str, ...], section: _Section) -> CommentedSeq:
    seq = CommentedSeq([_scalar(v, section.styles.get(key)) for v in values])
    if section.flow_lists.get(key):
        seq.fa.set_flow_style()
    return seq


def _put(item: CommentedMap, key: str, value: Any) -> None:
    """Set ``key``, or insert it where the README's order (id, question, also, answer, media) puts it."""
    if key in item:
        item[key] = value
        return
    before = _KEY_ORDER[: _KEY_ORDER.index(key)]
    position = 0
    for index, existing in enumerate(item):
        if existing in before:
            position = index + 1
    item.insert(position, key, value)


def _style_of(value: object) -> str | None:
    if isinstance(value, DoubleQuotedScalarString):
        return '"'
    if isinstance(value, SingleQuotedScalarString):
        return "'"
    if isinstance(value, LiteralScalarString):
        return "|"
    return None


def _scalar(value: str, style: str | None) -> str:
    """``value`` in ``style``, or plain; quoted whenever YAML 1.1 would read it as anything but text."""
    out: str = value  # plain; ruamel itself quotes what YAML 1.2 would not read as text
    if _ESCAPE.search(value):
        out = DoubleQuotedScalarString(value)  # only double quotes can escape these: \N, \L, \P, \uFEFF
    elif "\n" in value or style == "|":
        out = LiteralScalarString(value + "\n")  # '|' keeps the lines; the loader trims the last break
    elif style == "'":
        out = SingleQuotedScalarString(value)
    elif style == '"' or not _is_text(value):
        out = DoubleQuotedScalarString(value)
    return out


def _is_text(value: str) -> bool:
    """Whether a YAML 1.1 reader (PyYAML) takes ``value`` unquoted for text: ``yes``, ``1.5`` are not."""
    tag: str = _RESOLVER.resolve(ScalarNode, value, (True, False))  # type: ignore[no-untyped-call]
    return tag == _STR


# --- export and writing ---------------------------------------------------------------------------


def export_csv(text: str, flow: Flow, *, lineterminator: str = "\r\n") -> str:
    """The flow's FAQs as CSV text, in file order, so importing it back changes nothing.

    An FAQ without an explicit id gets an empty id cell (its automatic id depends on its place).

    Raises:
        FaqCsvError: texts the CSV cannot carry (a ``|`` in an alternate, a line break in a question).
    """
    bad = _Report(flow.path)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator=lineterminator)
    writer.writerow(COLUMNS)
    for explicit_id, faq in zip(_explicit_ids(text), flow.faqs, strict=True):
        question, alternates, answer, media = _values(faq)
        if "\n" in question:
            bad(faq.pos.line, f"FAQ '{faq.faq_id}': the question has a line break, which an import would refuse")
        for what, values in (("alternate", alternates), ("media", media)):
            for value in values:
                if SEP in value or "\n" in value:
                    bad(faq.pos.line, f"FAQ '{faq.faq_id}': {what} '{value}' has a '|' or a line break, "
                        f"which the CSV cannot carry in one {what}")
        writer.writerow([explicit_id or "", question, SEP.join(alternates), answer, SEP.join(media)])
    bad.raise_any()
    return out.getvalue()


def _explicit_ids(text: str) -> list[str | None]:
    """Each FAQ's own ``id``, or ``None`` where the loader names it by its place."""
    root = yaml.compose(text, Loader=yaml.SafeLoader)
    for key, value in root.value if isinstance(root, MappingNode) else ():
        if key.value == "faqs" and isinstance(value, SequenceNode):
            return [_id_of(item) for item in value.value]
    return []


def _id_of(item: Node) -> str | None:
    if isinstance(item, MappingNode):
        for key, value in item.value:
            if key.value == "id" and isinstance(value, ScalarNode):
                found: str = value.value
                return found
    return None


def write_atomically(path: str | os.PathLike[str], data: bytes) -> None:
    """Replace ``path``'s content so a reader (or a crash) sees the old file or the new, never half.

    The new bytes go to a temporary file beside it, reach the disk (fsync), take the old file's
    permissions (a new file's follow the umask, as ``open`` would), then ``os.replace`` swaps
    them in. A symlinked flow file is written through.
    """
    target = Path(os.path.realpath(path))
    try:
        mode = stat.S_IMODE(target.stat().st_mode)
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        mode = 0o666 & ~umask
    fd, temp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temp, mode)  # mkstemp makes it 0600
        os.replace(temp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp)
        raise
