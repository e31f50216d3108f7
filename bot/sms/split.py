"""Split a long reply into several SMS messages that each stay within a segment budget.

Carriers will concatenate a long body themselves, but every segment is billed and bodies are
capped (Telnyx: 10 parts, Twilio: 1600 characters; carriers.md §10.3). So a long FAQ answer
goes out as a few separate messages, each at most ``max_segments`` segments, cut where a human
would cut it.

Where to cut. The longest prefix that fits the budget is the *window*; the cut goes at the last
boundary inside it of the strongest kind available, from strongest to weakest:

1. a paragraph break (a blank line),
2. a sentence end (".", "!", "?" or "…", optionally closed by a quote or bracket) or a single
   line break, which in a support text ends a list item just as firmly,
3. any other whitespace (a word boundary),
4. a run of no-break spaces only (a number and its unit joined by U+00A0 should stay
   together, but splitting there still beats cutting a word),
5. nowhere: only then is a word cut, because no whitespace at all fits in the window.

A paragraph or sentence boundary only wins when it leaves the part at least half full. Without
that, a two-word first paragraph would go out as its own SMS and the rest could need one
message more than a plain word-wrap, which costs the business money and the customer patience.

Whitespace at a cut is dropped, as is whitespace around the whole reply; whitespace inside a
part is kept as written. A space followed by a combining mark is not whitespace here but the
mark's base (one grapheme cluster): it is never dropped, nor a place to cut. Each part is
measured as the message it will be: a part without UCS-2 characters gets GSM-7's larger
segments even when another part of the reply needs UCS-2.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right

from bot.sms.gsm7 import is_gsm7
from bot.sms.segments import analyze, grapheme_clusters
from bot.sms.smart import smart_encode

__all__ = ["encoded_twin", "split_reply", "strip_clusters"]

_PARAGRAPH, _SENTENCE, _WORD, _GLUE = 3, 2, 1, 0

# Spaces whose whole point is that a line must not break there.
_NO_BREAK_SPACES = frozenset("\u00a0\u2007\u202f")
_WHITESPACE_RUN = re.compile(r"\s+")
_LINE_BREAK = re.compile(r"\r\n|[\n\r\v\f\x1c-\x1e\x85\u2028\u2029]")
_SENTENCE_END = re.compile(r"[.!?…][\"'”’»)\]]*$")
# How far back a sentence end may start before the whitespace (the mark plus closers).
_SENTENCE_LOOKBEHIND = 8


def split_reply(text: str, max_segments: int, max_chars: int = 1600, smart: bool = False) -> list[str]:
    """Split a reply into messages of at most ``max_segments`` segments each.

    Args:
        text: The full reply.
        max_segments: Segment budget per message, as counted by :func:`bot.sms.analyze`.
        max_chars: Character (code point) budget per message; Twilio rejects bodies over 1600.
        smart: Smart-encode each message on its own (:func:`bot.sms.smart_encode`: only when
            that message then is GSM-7) and measure it as it is sent. For a reply that cannot
            be GSM-7 as a whole (an emoji in its last sentence), so the messages without one
            get GSM-7's 160 septets instead of UCS-2's 70. A message is sent encoded only when
            the encoded text fits both budgets too ("…" becomes "...").

    Returns:
        The messages in order: non-empty, stripped, each within both budgets. Together they
        hold every non-whitespace character of ``text`` exactly once, in order (with
        ``smart``, of its smart-encoded twin where a message is encoded). A blank ``text``
        gives ``[]`` because there is nothing to send.

    Raises:
        ValueError: If ``max_segments`` or ``max_chars`` is less than 1.
    """
    if max_segments < 1 or max_chars < 1:
        raise ValueError(f"budgets must be >= 1, got {max_segments=} {max_chars=}")
    # Cut only between grapheme clusters, so a hard split never separates a flag's two
    # halves, a letter from its accent or a conjunct's letters. Offsets are computed once
    # for the whole body. Whitespace around the reply is dropped a cluster at a time: a
    # space that carries a combining mark is that mark's base, not whitespace.
    kept = _strip_clusters(grapheme_clusters(text))
    body = "".join(kept)
    boundaries: list[int] = []
    offset = 0
    for cluster in kept:
        offset += len(cluster)
        boundaries.append(offset)

    parts: list[str] = []
    start = 0
    while start < len(body):
        end = _window_end(body, start, boundaries, max_segments, max_chars, smart)
        if end == len(body):
            parts.append(body[start:])
            break
        cut, resume = _choose_cut(body, start, end, boundaries)
        parts.append(body[start:cut])
        start = resume
    if smart:
        return [encoded_twin(part, max_segments, max_chars) or part for part in parts]
    return parts


def strip_clusters(text: str) -> str:
    """``text`` without the whitespace around it, as :func:`split_reply` drops it.

    ``str.strip`` but a grapheme cluster at a time: a space that carries a combining mark
    (" \u0301", a spacing accent) is that mark's base, and stripping it would leave the
    mark on nothing.
    """
    return "".join(_strip_clusters(grapheme_clusters(text)))


def _strip_clusters(clusters: list[str]) -> list[str]:
    first, last = 0, len(clusters)
    while first < last and clusters[first].isspace():
        first += 1
    while last > first and clusters[last - 1].isspace():
        last -= 1
    return clusters[first:last]


def _within(piece: str, max_segments: int, max_chars: int) -> bool:
    return len(piece) <= max_chars and analyze(piece).segments <= max_segments


def encoded_twin(piece: str, max_segments: int, max_chars: int) -> str | None:
    """The smart-encoded twin of a message, if it differs, is GSM-7, not blank and fits."""
    if is_gsm7(piece):
        return None
    twin = smart_encode(piece).strip()
    if twin and twin != piece and is_gsm7(twin) and _within(twin, max_segments, max_chars):
        return twin
    return None


def _fits(piece: str, max_segments: int, max_chars: int, smart: bool = False) -> bool:
    # With ``smart`` a piece fits when it or its twin does. A prefix of a fitting piece still
    # fits: a prefix of the twin is the prefix's twin, and the original keeps fitting alone.
    if _within(piece, max_segments, max_chars):
        return True
    return smart and encoded_twin(piece, max_segments, max_chars) is not None


def _window_end(
    body: str, start: int, boundaries: list[int], max_segments: int, max_chars: int, smart: bool
) -> int:
    """The furthest cluster boundary after ``start`` such that ``body[start:end]`` fits."""
    # No character costs less than one unit, so no message holds more code points than a
    # GSM-7 one of ``max_segments`` segments; bounding the search keeps it short.
    most = 160 if max_segments == 1 else 153 * max_segments
    limit = min(len(body), start + max_chars, start + most)
    candidates = boundaries[bisect_right(boundaries, start) : bisect_right(boundaries, limit)]
    if not candidates or not _fits(body[start : candidates[0]], max_segments, max_chars, smart):
        # Not even one cluster fits (say, a letter with dozens of combining marks and a
        # one-segment budget): fall back to code points, of which one always fits.
        candidates = list(range(start + 1, limit + 1))
    # Binary search: a prefix of a fitting text always fits, because adding characters can
    # only add units, switch GSM-7 to UCS-2, or push an atom into a further segment.
    low, high = 0, len(candidates) - 1
    while low < high:
        middle = (low + high + 1) // 2
        if _fits(body[start : candidates[middle]], max_segments, max_chars, smart):
            low = middle
        else:
            high = middle - 1
    return candidates[low]


def _choose_cut(body: str, start: int, end: int, boundaries: list[int]) -> tuple[int, int]:
    """Pick where the part ending at or before ``end`` stops and where the next one starts.

    Returns:
        ``(cut, resume)``: the part is ``body[start:cut]`` and the next part begins at
        ``resume``; ``body[cut:resume]`` is the whitespace that is dropped (empty for a
        hard split inside a word).
    """
    # Last boundary of each strength whose whitespace begins inside the window; a run may
    # extend past ``end`` because the whitespace is dropped, not sent.
    last: dict[int, tuple[int, int]] = {}
    for run in _WHITESPACE_RUN.finditer(body, start, len(body)):
        if run.start() > end:
            break
        run_start, run_end = run.span()
        if not _is_boundary(boundaries, run_end):
            run_end -= 1  # the run's last space carries a combining mark: it is text, kept
            if run_end == run_start:
                continue
        strength = _strength(body, start, run_start, run_end)
        for level in range(strength + 1):
            last[level] = (run_start, run_end)
    # Structure wins only when the part it leaves is at least half the window (see above).
    for level in (_PARAGRAPH, _SENTENCE):
        if level in last and 2 * (last[level][0] - start) >= end - start:
            return last[level]
    for level in (_WORD, _GLUE):
        if level in last:
            return last[level]
    return end, end


def _is_boundary(boundaries: list[int], offset: int) -> bool:
    """Whether a cluster ends at ``offset`` (``boundaries``: every cluster's end, ascending)."""
    index = bisect_left(boundaries, offset)
    return index < len(boundaries) and boundaries[index] == offset


def _strength(body: str, start: int, run_start: int, run_end: int) -> int:
    """How good a place to cut the whitespace ``body[run_start:run_end]`` is (higher is better)."""
    whitespace = body[run_start:run_end]
    if all(char in _NO_BREAK_SPACES for char in whitespace):
        return _GLUE
    line_breaks = len(_LINE_BREAK.findall(whitespace))
    if line_breaks >= 2 or "\u2029" in whitespace:
        return _PARAGRAPH
    if line_breaks == 1:
        return _SENTENCE
    tail_from = max(start, run_start - _SENTENCE_LOOKBEHIND)
    if _SENTENCE_END.search(body, tail_from, run_start):
        return _SENTENCE
    return _WORD
