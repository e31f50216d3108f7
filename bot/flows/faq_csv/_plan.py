"""Planning an import: which row updates which FAQ, the merged values, new ids, and clashes."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from bot.flows.faq_csv._model import Entry, FaqCsvError, FaqRow, Problem, Report, faq_values, media_key
from bot.flows.faq_csv._section import Section, find_section
from bot.flows.faq_csv._splice import assemble, join, verify
from bot.flows.model import Faq, Flow
from bot.matching.normalize import normalize

__all__ = ["ImportPlan", "plan_import"]

_AUTO_ID = re.compile(r"^faq-[0-9]+$")  # the loader names an FAQ without 'id' like this


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
    section = find_section(text, flow.path)
    olds = list(flow.faqs)
    if len(olds) != len(section.items):  # pragma: no cover - the loader rejects any FAQ it skips
        raise FaqCsvError([Problem(flow.path, 1, "the flow's FAQs could not be lined up with its text")])
    bad = Report(csv_name)
    claims = _match(rows, section, olds, bad)
    entries: list[Entry] = []
    removed: list[str] = []
    for index, faq in enumerate(olds):
        row = claims.get(index)
        if row is None and prune:
            removed.append(faq.faq_id)
        elif row is None:
            entries.append(Entry(faq.faq_id, *faq_values(faq), old=index, changed=False))
        else:
            entries.append(_merge(row, index, faq, section.items[index].explicit_id))
    handled = {row.row for row in claims.values()} | {p.row for p in bad.problems}  # updates, or in conflict
    used = {i.explicit_id for i in section.items if i.explicit_id} | {r.faq_id for r in rows if r.faq_id}
    for row in rows:
        if row.row not in handled:
            new_id = row.faq_id or _new_id(row.question, used)
            used.add(new_id)
            media = row.media or ()
            entries.append(Entry(new_id, row.question, row.alternates or (), row.answer, media, row, new_id=new_id))
    _check_phrasings(entries, olds, flow.path, bad)
    bad.raise_any()

    pieces = assemble(text, section, entries, bad)
    bad.raise_any()
    new_text, spans = join(text, section, pieces)
    verify(new_text, flow, entries, spans, bad)
    return ImportPlan(
        text=new_text,
        added=tuple(e.name for e in entries if e.old is None),
        updated=tuple(e.name for e in entries if e.old is not None and e.row is not None and e.changed),
        removed=tuple(removed),
        unchanged=tuple(e.name for e in entries if e.row is not None and e.old is not None and not e.changed),
        kept=tuple(e.name for e in entries if e.row is None),
    )


def _match(rows: Sequence[FaqRow], section: Section, olds: list[Faq], bad: Report) -> dict[int, FaqRow]:
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


def _merge(row: FaqRow, index: int, faq: Faq, explicit_id: str | None) -> Entry:
    question, alternates, answer, media = faq_values(faq)
    entry = Entry(
        explicit_id or row.faq_id or faq.faq_id,
        row.question,
        alternates if row.alternates is None else row.alternates,
        row.answer,
        media if row.media is None else row.media,
        row,
        index,
        row.faq_id if row.faq_id and explicit_id is None else None,
    )
    same_media = [media_key(m) for m in entry.media] == [media_key(m) for m in media]
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
    if _AUTO_ID.match(f"{base}-2"):
        # "faq-2", "faq-3", ... are the loader's names for FAQs without an id:
        # numbering "faq" (a question with no letters or digits) would never end.
        base = f"{base}-question"
    candidate, n = base, 2
    while candidate in used or _AUTO_ID.match(candidate):
        candidate, n = f"{base}-{n}", n + 1
    return candidate


def _check_phrasings(entries: list[Entry], olds: list[Faq], flow_file: str, bad: Report) -> None:
    """No text may be a question or alternate of two FAQs: the matcher could not tell them apart.

    Rows are checked in row order, then the FAQs the CSV does not list, so a clash is
    reported on the later row, or on the row that clashes with an FAQ of the flow.
    """
    owners: dict[str, tuple[Entry, str]] = {}
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
