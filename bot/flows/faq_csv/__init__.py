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

The steps are private modules, one concept each, in the order an import runs:
``_read`` (the CSV into checked rows), ``_section`` (where the FAQs are in the flow
text), ``_plan`` (rows matched and merged with FAQs), ``_render`` (one FAQ as
round-trip YAML), ``_splice`` (the new text, read back), and ``_write`` (the atomic
replace); ``_export`` goes the other way. ``_model`` holds what they share.
"""

from __future__ import annotations

from bot.flows.faq_csv._export import export_csv
from bot.flows.faq_csv._model import COLUMNS, FaqCsvError, FaqRow, Problem
from bot.flows.faq_csv._plan import ImportPlan, plan_import
from bot.flows.faq_csv._read import read_csv
from bot.flows.faq_csv._write import write_atomically

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
