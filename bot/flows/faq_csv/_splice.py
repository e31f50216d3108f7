"""The flow's new text: the section's pieces between the untouched bytes, then read back.

Only changed and new FAQs are rendered; every other byte of the flow file is copied. The result is
loaded with the real loader and every FAQ read back before anything is written, so a problem is
reported on the CSV row it comes from.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.flows.errors import FlowLoadError
from bot.flows.faq_csv._model import Entry, Problem, Report, faq_values, media_key
from bot.flows.faq_csv._render import render_new, render_update, round_trip_yaml
from bot.flows.faq_csv._section import Section
from bot.flows.loader import load_flow_text
from bot.flows.model import Flow

__all__ = ["assemble", "join", "verify"]


@dataclass(slots=True)
class _Piece:
    body: str
    gap: str
    entry: Entry | None = None


def assemble(text: str, section: Section, entries: list[Entry], bad: Report) -> list[_Piece]:
    """The section as pieces: the 'faqs:' line, then every FAQ's body and the gap after it.

    A removed FAQ takes its body away; its gap replaces the one before it when it holds a
    comment (a heading for the FAQs after it) or ends the section, and is dropped otherwise.
    """
    items = section.items
    head_gap = text[section.head_end : items[0].start] if items else ""
    pieces = [_Piece(section.head or text[section.start : section.head_end], head_gap)]
    by_old = {e.old: e for e in entries if e.old is not None}
    yaml_rt = round_trip_yaml(section.indent)
    for index, item in enumerate(items):
        gap = text[item.end : item.gap_end]
        entry = by_old.get(index)
        if entry is None:
            if index == len(items) - 1 or "#" in gap:
                pieces[-1].gap = gap
            continue
        body = text[item.start : item.end]
        if entry.changed:
            body = render_update(body, item.dash_col, entry, section, yaml_rt, bad)
        pieces.append(_Piece(body, gap, entry))
    added = [e for e in entries if e.old is None]
    if added:
        tail = pieces[-1].gap
        pieces[-1].gap = section.separator if len(pieces) > 1 else ""
        for entry in added:
            pieces.append(_Piece(render_new(entry, section, yaml_rt), section.separator, entry))
        pieces[-1].gap = tail
    return pieces


def join(text: str, section: Section, pieces: list[_Piece]) -> tuple[str, list[tuple[int, int, Entry]]]:
    """The new text, and the lines (first, last; 1-based) each FAQ's body now occupies."""
    out = [text[: section.start]]
    line = text.count("\n", 0, section.start) + 1
    spans: list[tuple[int, int, Entry]] = []
    for piece in pieces:
        lines = piece.body.count("\n")
        if piece.entry is not None:
            spans.append((line, line + lines - 1, piece.entry))
        out += [piece.body, piece.gap]
        line += lines + piece.gap.count("\n")
    out.append(text[section.end :])
    return "".join(out), spans


def verify(text: str, flow: Flow, entries: list[Entry], spans: list[tuple[int, int, Entry]], bad: Report) -> None:
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
        question, alternates, answer, media = faq_values(faq)
        wrong = [
            what
            for what, ok in (
                ("id", entry.new_id is None or faq.faq_id == entry.new_id),
                ("question", question == entry.question),
                ("alternates", alternates == entry.alternates),
                ("answer", answer == entry.answer),
                ("media", [media_key(m) for m in media] == [media_key(m) for m in entry.media]),
            )
            if not ok
        ]
        if wrong:  # a bug in the writer: never write a file that says something else
            msg = f"FAQ '{entry.name}' would not read back as written ({', '.join(wrong)}); please report this bug"
            bad(entry.row.row if entry.row else 1, msg)
    bad.raise_any()
