"""What an FAQ import is made of, shared by its steps: problems, a CSV row, an FAQ of the result.

Also the forms values are compared in (``clean``, ``media_key``, ``faq_values``): a row and an FAQ
of the flow say the same thing when these agree, and the import reads its result back in them.
"""

from __future__ import annotations

import posixpath
from collections.abc import Sequence
from dataclasses import dataclass

from bot.flows.model import Faq

__all__ = [
    "COLUMNS",
    "SEP",
    "Entry",
    "FaqCsvError",
    "FaqRow",
    "Problem",
    "Report",
    "clean",
    "faq_values",
    "media_key",
]

COLUMNS = ("id", "question", "alternates", "answer", "media")
SEP = "|"  # between alternates, and between media, in one cell


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


class Report:
    """Collects problems for one file."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.problems: list[Problem] = []

    def __call__(self, row: int, message: str) -> None:
        self.problems.append(Problem(self.file, row, message))

    def raise_any(self, extra: Sequence[Problem] = ()) -> None:
        if self.problems or extra:
            raise FaqCsvError([*self.problems, *extra])


@dataclass(slots=True)
class Entry:
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


def clean(value: str) -> str:
    """Text as compared and written: ``\\n`` line breaks, no spaces at line ends or around."""
    lines = value.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return "\n".join(line.rstrip() for line in lines).strip()


def media_key(ref: str) -> str:
    """The form the loader keeps a media reference in (``./a.png`` is ``a.png``)."""
    ref = ref.strip()
    return ref if "://" in ref else posixpath.normpath(ref)


def faq_values(faq: Faq) -> tuple[str, tuple[str, ...], str, tuple[str, ...]]:
    return clean(faq.question), tuple(clean(p) for p in faq.phrasings[1:]), clean(faq.answer), faq.media
