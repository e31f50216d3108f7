"""A flow's FAQs as CSV, written so that importing it back changes nothing."""

from __future__ import annotations

import csv
import io

from bot.flows.faq_csv._model import COLUMNS, SEP, Report, faq_values
from bot.flows.faq_csv._section import explicit_ids
from bot.flows.model import Flow

__all__ = ["export_csv"]


def export_csv(text: str, flow: Flow, *, lineterminator: str = "\r\n") -> str:
    """The flow's FAQs as CSV text, in file order, so importing it back changes nothing.

    An FAQ without an explicit id gets an empty id cell (its automatic id depends on its place).

    Raises:
        FaqCsvError: texts the CSV cannot carry (a ``|`` in an alternate, a line break in a question).
    """
    bad = Report(flow.path)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator=lineterminator)
    writer.writerow(COLUMNS)
    for explicit_id, faq in zip(explicit_ids(text), flow.faqs, strict=True):
        question, alternates, answer, media = faq_values(faq)
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
