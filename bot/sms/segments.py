"""How many SMS segments a text costs, and where the carrier will cut it.

One SMS carries 140 octets of user data: 160 GSM-7 septets or 70 UCS-2 code units. A longer
text is sent as a concatenated SMS whose parts each lose 6 octets to the user data header (UDH),
leaving 153 septets or 67 code units per part (carriers.md §10.3). Segments, not messages, are
what carriers bill, so whatever composes or checks a reply asks :func:`analyze`.

Why segments are counted by packing rather than by ``ceil(units / 153)``: a segment may not end
in the middle of something the handset must see whole. An extension character is ESC plus a
code and the two septets travel together; an astral character is a UTF-16 surrogate pair; and
Twilio's calculator keeps a whole grapheme cluster (a flag, a ZWJ family emoji, a letter with
its accents) in one segment. So the text is packed greedily, one unbreakable *atom* at a time,
and a segment closes early when the next atom does not fit; ``split_segments`` returns the
very parts that were counted, so the count and the pieces can never disagree.

Grapheme clusters follow UAX #29 as closely as the standard library allows. ``unicodedata``
has no Grapheme_Cluster_Break or Extended_Pictographic property, so those are approximated
from general categories and code point ranges; the rules that occur in support texts (CR LF,
combining and spacing marks (Thai SARA AM included), variation selectors, skin tones, ZWJ
sequences, flags, Hangul, and Indic conjuncts (GB9c)) are exact. Conjuncts go one step
further than GB9c, as CLDR's aksara clusters do: Myanmar's stacking virama and Khmer's coeng
join the next consonant too, since a message cut there shows a dangling sign and a letter
that should have been written under the one before. Prepend characters (GB9b) are not
modelled (no support text starts a syllable with one).
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import Literal

from bot.sms.conjuncts import CONSONANT, LINKED, NONE, conjunct_role, next_conjunct
from bot.sms.gsm7 import GSM7_BASIC_CHARS, septet_cost

__all__ = ["SegmentInfo", "analyze", "grapheme_clusters", "split_segments"]

Encoding = Literal["GSM-7", "UCS-2"]

# Per-unit sizes and capacities: (single-SMS capacity, capacity per concatenated part, bits).
_LIMITS: dict[Encoding, tuple[int, int, int]] = {"GSM-7": (160, 153, 7), "UCS-2": (70, 67, 16)}
# The 8-bit-reference concatenation header (05 00 03 RR TT SS). The calculator's totalSize
# charges it to every part of a multipart message and to nothing in a single SMS.
_UDH_BITS = 6 * 8


@dataclass(frozen=True, slots=True)
class SegmentInfo:
    """What one outbound text costs on the wire.

    Attributes:
        encoding: "GSM-7" when every character is in the GSM 03.38 tables, else "UCS-2".
        units: GSM-7 septets (an extension character counts 2) or UTF-16 code units
            (an astral character such as most emoji counts 2).
        segments: SMS parts the carrier will send; at least 1, since even an empty
            body goes out as one SMS.
        ucs2_chars: The distinct code points that forced UCS-2, in order of first
            appearance; empty for GSM-7. This is what to show a flow author.
        message_size_bits: ``units`` times 7 or 16, without headers.
        total_size_bits: ``message_size_bits`` plus 48 header bits per part when there
            is more than one part (the calculator's ``totalSize``).
    """

    encoding: Encoding
    units: int
    segments: int
    ucs2_chars: tuple[str, ...]
    message_size_bits: int
    total_size_bits: int


def analyze(text: str) -> SegmentInfo:
    """Work out the encoding, size and segment count of an outbound SMS body.

    Args:
        text: The exact body to be sent (not normalised; see :mod:`bot.sms.smart`).

    Returns:
        The :class:`SegmentInfo`. The empty text is GSM-7, 0 units and 1 segment.
    """
    if _plain(text):
        # Fast path for the common case (measured: most of reply preparation's
        # time went here): every character is one septet and none can pair
        # with another, so packing reduces to arithmetic.
        encoding: Encoding = "GSM-7"
        ucs2_chars: tuple[str, ...] = ()
        units = len(text)
        single, part = _LIMITS[encoding][0], _LIMITS[encoding][1]
        segments = 1 if units <= single else -(-units // part)
    else:
        encoding, ucs2_chars = _choose_encoding(text)
        atoms = _atoms(text, encoding)
        units = sum(cost for _, cost in atoms)
        segments = len(_pack(atoms, encoding))
    message_bits = units * _LIMITS[encoding][2]
    header_bits = _UDH_BITS * segments if segments > 1 else 0
    return SegmentInfo(
        encoding=encoding,
        units=units,
        segments=segments,
        ucs2_chars=ucs2_chars,
        message_size_bits=message_bits,
        total_size_bits=message_bits + header_bits,
    )


_PLAIN = frozenset(GSM7_BASIC_CHARS) - {"\r"}  # CR pairs with LF when packing: not plain


def _plain(text: str) -> bool:
    return _PLAIN.issuperset(text)


def split_segments(text: str) -> list[str]:
    """Cut a text where a concatenated SMS would be cut.

    Args:
        text: The exact body to be sent.

    Returns:
        The per-segment pieces, in order. Joining them gives ``text`` back, and there are
        always ``analyze(text).segments`` of them (so ``[""]`` for the empty text).
    """
    encoding, _ = _choose_encoding(text)
    return ["".join(piece for piece, _ in part) for part in _pack(_atoms(text, encoding), encoding)]


def grapheme_clusters(text: str) -> list[str]:
    """Split a text into user-perceived characters (extended grapheme clusters).

    Args:
        text: Any text.

    Returns:
        The clusters in order; joining them gives ``text`` back. A flag, a ZWJ emoji
        sequence, CR LF or a letter with its combining marks is one cluster.
    """
    clusters: list[str] = []
    start = 0
    prev_kind = ""
    ri_run = 0  # consecutive regional indicators just before the current character
    emoji_zwj = False  # the text so far ends in Extended_Pictographic Extend* ZWJ
    in_emoji = False  # the text so far ends in Extended_Pictographic Extend*
    conjunct = NONE  # how far the text so far is into consonant (extend)* linker (extend)*
    for index, char in enumerate(text):
        kind = _break_kind(char)
        role = conjunct_role(char) if ord(char) >= 0x0900 else ""
        # GB9c: a consonant after a linker that follows a consonant stays in its cluster.
        joined = conjunct == LINKED and role == CONSONANT
        if index and not joined and _breaks(prev_kind, kind, ri_run, emoji_zwj):
            clusters.append(text[start:index])
            start = index
        ri_run = ri_run + 1 if kind == "RI" else 0
        emoji_zwj = in_emoji and kind == "ZWJ"
        in_emoji = kind == "Pict" or (in_emoji and kind == "Extend")
        conjunct = next_conjunct(conjunct, role)
        prev_kind = kind
    if text:
        clusters.append(text[start:])
    return clusters


def _choose_encoding(text: str) -> tuple[Encoding, tuple[str, ...]]:
    # One character outside both GSM tables makes the whole message UCS-2; dict keys keep
    # first-appearance order and drop repeats.
    offenders = dict.fromkeys(char for char in text if septet_cost(char) is None)
    return ("UCS-2" if offenders else "GSM-7"), tuple(offenders)


def _cost(piece: str, encoding: Encoding) -> int:
    if encoding == "UCS-2":
        # "surrogatepass" so a lone surrogate (from badly decoded input) counts as the one
        # unit it occupies instead of crashing the analysis.
        return len(piece.encode("utf-16-le", "surrogatepass")) // 2
    # Only called on GSM-7 texts, where every character has a cost.
    return sum(septet_cost(char) or 0 for char in piece)


def _atoms(text: str, encoding: Encoding) -> list[tuple[str, int]]:
    """The text as unbreakable pieces with their cost in units."""
    atoms: list[tuple[str, int]] = []
    per_part = _LIMITS[encoding][1]
    for cluster in grapheme_clusters(text):
        cost = _cost(cluster, encoding)
        if cost <= per_part:
            atoms.append((cluster, cost))
        else:
            # A cluster bigger than a whole part ("e" plus dozens of combining marks) cannot
            # stay whole; fall back to code points, which still keeps surrogate pairs intact.
            atoms.extend((char, _cost(char, encoding)) for char in cluster)
    return atoms


def _pack(atoms: list[tuple[str, int]], encoding: Encoding) -> list[list[tuple[str, int]]]:
    """Greedily fill parts with atoms; one part (possibly empty) if it all fits in one SMS."""
    single, per_part, _ = _LIMITS[encoding]
    if sum(cost for _, cost in atoms) <= single:
        return [atoms]
    parts: list[list[tuple[str, int]]] = [[]]
    used = 0
    for atom in atoms:
        if used + atom[1] > per_part:
            parts.append([])
            used = 0
        parts[-1].append(atom)
        used += atom[1]
    return parts


# --- grapheme cluster boundaries (UAX #29, approximated; see the module docstring) ---

_HANGUL_RANGES: tuple[tuple[int, int, str], ...] = (
    (0x1100, 0x115F, "L"), (0xA960, 0xA97C, "L"),
    (0x1160, 0x11A7, "V"), (0xD7B0, 0xD7C6, "V"),
    (0x11A8, 0x11FF, "T"), (0xD7CB, 0xD7FB, "T"),
)  # fmt: skip
# Which Hangul kinds may follow which without a break (rules GB6-GB8).
_HANGUL_JOINS = {
    "L": {"L", "V", "LV", "LVT"},
    "LV": {"V", "T"},
    "V": {"V", "T"},
    "LVT": {"T"},
    "T": {"T"},
}


def _break_kind(char: str) -> str:
    code = ord(char)
    if 0x20 <= code < 0x7F:
        return "Other"  # printable ASCII, the common case, needs no table lookups
    if char in "\r\n":
        return char
    if char == "\u200d":
        return "ZWJ"
    # Joiners that are format characters (Cf) but extend a cluster rather than break it:
    # ZWNJ, emoji tag characters (subdivision flags), and skin-tone modifiers (Sk).
    if code == 0x200C or 0xE0020 <= code <= 0xE007F or 0x1F3FB <= code <= 0x1F3FF:
        return "Extend"
    if 0x1F1E6 <= code <= 0x1F1FF:
        return "RI"
    category = unicodedata.category(char)
    if category in ("Mn", "Me", "Mc") or code in (0x0E33, 0x0EB3):
        # Mc is SpacingMark; it joins the same way (GB9a). So do Thai SARA AM and Lao AM,
        # vowels of category Lo that UAX #29 lists as SpacingMark ("น้ำ" is one cluster).
        return "Extend"
    if category in ("Cc", "Cf", "Zl", "Zp"):
        return "Control"
    if 0xAC00 <= code <= 0xD7A3:
        return "LV" if (code - 0xAC00) % 28 == 0 else "LVT"
    for low, high, kind in _HANGUL_RANGES:
        if low <= code <= high:
            return kind
    # Extended_Pictographic, approximated: symbols (So) and the emoji planes' blocks.
    if category == "So" or 0x1F000 <= code <= 0x1FAFF:
        return "Pict"
    return "Other"


def _breaks(prev: str, kind: str, ri_run: int, emoji_zwj: bool) -> bool:
    if prev == "\r" and kind == "\n":
        return False  # GB3
    if prev in ("\r", "\n", "Control") or kind in ("\r", "\n", "Control"):
        return True  # GB4, GB5
    if kind in _HANGUL_JOINS.get(prev, ()):
        return False  # GB6-GB8
    if kind in ("Extend", "ZWJ"):
        return False  # GB9, GB9a
    if emoji_zwj and kind == "Pict":
        return False  # GB11: ZWJ sequences such as the rainbow flag
    # GB12/GB13: regional indicators pair up into flags, counting from the first.
    return not (kind == "RI" and ri_run % 2 == 1)
