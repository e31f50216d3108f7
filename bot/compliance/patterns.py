"""The revocation patterns one vocabulary searches, and which of them a text can match.

Every inbound text is searched with every revocation pattern, and a search
tries its pattern at every position of every clause: about 300 us for a
700-character complaint with the 18 built-in patterns, most of it wasted on
patterns that cannot match because a word they need is missing. Each
built-in pattern comes with the literal words it cannot match without
(:data:`bot.compliance.revocation.REVOCATION_TRIGGERS`), and
:meth:`PatternSet.candidates` searches only the patterns whose words the
text holds. A substring test is one fast scan in C, a fraction of a search.
A flow's own patterns have no known triggers and are always searched.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from bot.compliance.revocation import REVOCATION_PATTERNS, REVOCATION_TRIGGERS, compile_pattern

__all__ = ["GATED_CHARS", "PatternSet"]

# Texts (their clauses' characters) longer than this test each pattern's
# trigger groups; shorter ones one search for any trigger (see candidates).
GATED_CHARS = 120

Triggers = tuple[tuple[str, ...], ...]
Entry = tuple[str, re.Pattern[str], Triggers]


class PatternSet:
    """Revocation patterns in matching order, compiled, each with its triggers.

    Args:
        sources: Regex sources; repeats are dropped, keeping the first place,
            since the order decides which pattern explain() names when several
            match.

    Raises:
        ValueError: A pattern is invalid or matches an empty clause
            (see :func:`bot.compliance.revocation.compile_pattern`).
    """

    __slots__ = ("_any_trigger", "_entries", "_firsts", "_untriggered")

    def __init__(self, sources: Iterable[str]) -> None:
        known = dict(zip(REVOCATION_PATTERNS, REVOCATION_TRIGGERS, strict=True))
        self._entries: tuple[Entry, ...] = tuple(
            (source, compile_pattern(source), known.get(source, ())) for source in dict.fromkeys(sources)
        )
        # A flow's pattern has no triggers (): every text may match it.
        self._untriggered = tuple(entry for entry in self._entries if not entry[2])
        # Every built-in pattern needs a word of its first group, so a text
        # with none of them can match only the untriggered ones.
        firsts = {word for groups in REVOCATION_TRIGGERS for word in groups[0]}
        self._any_trigger = re.compile("|".join(re.escape(word) for word in sorted(firsts, key=len, reverse=True)))
        self._firsts = tuple(sorted(firsts))

    @property
    def sources(self) -> tuple[str, ...]:
        """The regex sources in matching order."""
        return tuple(source for source, _, _ in self._entries)

    def candidates(self, texts: Sequence[str]) -> Sequence[Entry]:
        """The patterns that can match one of the clause texts ``texts``, in matching order."""
        # Joined with line breaks, which no clause and no trigger holds, so a
        # trigger cannot span two clauses.
        joined = "\n".join(texts)
        if len(joined) <= GATED_CHARS:
            # A short text mostly holds no trigger at all ("2", "wat r ur
            # hrs"): one search settles it. When it holds one, every pattern
            # is searched: per-pattern tests would cost more than they save.
            return self._entries if self._any_trigger.search(joined) is not None else self._untriggered
        # A long one holds some ("do not", "get"). The first groups' words are
        # each looked for once, however many patterns share them; the other
        # groups only for the few patterns left.
        present = {word for word in self._firsts if word in joined}
        return [
            (source, pattern, groups)
            for source, pattern, groups in self._entries
            if not groups
            or (not present.isdisjoint(groups[0]) and all(any(word in joined for word in g) for g in groups[1:]))
        ]
