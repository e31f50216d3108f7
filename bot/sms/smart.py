"""Smart encoding: swap Unicode look-alikes for GSM-7 characters so a reply stays cheap.

One curly apostrophe pasted from a word processor turns a whole reply into UCS-2, which cuts a
segment from 160 characters to 70 and can more than double what the message costs. Twilio's
Smart Encoding (carriers.md §10.5) replaces such characters with GSM-7 equivalents, but only
when that makes the *entire* message GSM-7: if an emoji or a CJK character keeps the message in
UCS-2 anyway, the swap would only degrade the text, so the text is left exactly as written.

The map is Twilio DevEd's segment-calculator table of 270 entries, transcribed from the
reference in the reference's order. Its quirks are kept on purpose, so that what we predict
matches what that calculator (and, as far as anyone can check, Twilio) does:

* no-break and typographic spaces (and a few C1 controls) become *two* spaces;
* TAB becomes seven spaces;
* U+2039 "‹" becomes ">" and U+203A "›" becomes "<" (reversed);
* some invisible controls and zero-width characters are deleted outright.

Decomposed accents are not composed first: "e" + U+0301 stays UCS-2 because U+0301 is not in
the map. Normalising would change what the customer receives beyond the documented table.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from bot.sms.gsm7 import is_gsm7

__all__ = ["smart_encode"]

# (replacement, code points) in runs that follow the reference's numbering 1-270, so a reviewer
# can walk the table and this list side by side. A replacement may appear in several runs
# because the source table appends later additions ("-", "_", ",", ...) at the end.
# fmt: off
_RUNS: tuple[tuple[str, tuple[int, ...]], ...] = (
    # 1-13: double quotes and their look-alikes.
    ('"', (0x00AB, 0x00BB, 0x201C, 0x201D, 0x02BA, 0x02EE, 0x201F, 0x201E, 0x275D, 0x275E)),
    ('"', (0x301D, 0x301E, 0xFF02)),
    # 14-32: single quotes, primes, accents and the grave accent (not GSM-7 itself).
    ("'", (0x2018, 0x2019, 0x02BB, 0x02C8, 0x02BC, 0x02BD, 0x02B9, 0x201B, 0xFF07, 0x00B4)),
    ("'", (0x02CA, 0x0060, 0x02CB, 0x275B, 0x275C, 0x0313, 0x0314, 0xFE10, 0xFE11)),
    # 33-47: division, vulgar fractions (expanded to three characters), slashes.
    ("/", (0x00F7,)),
    ("1/4", (0x00BC,)),
    ("1/2", (0x00BD,)),
    ("3/4", (0x00BE,)),
    ("/", (0x29F8, 0x0337, 0x0338, 0x2044, 0x2215, 0xFF0F)),
    ("\\", (0x29F9, 0x29F5, 0x20E5, 0xFE68, 0xFF3C)),
    # 48-65: lines, bars and hyphens.
    ("_", (0x0332, 0xFF3F)),
    ("|", (0x20D2, 0x20D3, 0x2223, 0xFF5C, 0x23B8, 0x23B9, 0x23D0, 0x239C, 0x239F)),
    ("-", (0x23BC, 0x23BD, 0x2015, 0xFE63, 0xFF0D, 0x2010, 0x2043)),
    # 66-121: small and fullwidth punctuation, ornaments, asterisks.
    ("@", (0xFE6B, 0xFF20)),
    ("$", (0xFE69, 0xFF04)),
    ("!", (0x01C3, 0xFE15, 0xFE57, 0xFF01)),
    ("#", (0xFE5F, 0xFF03)),
    ("%", (0xFE6A, 0xFF05)),
    ("&", (0xFE60, 0xFF06)),
    (",", (0x201A, 0x0326, 0xFE50, 0xFE51, 0xFF0C, 0xFF64)),
    ("(", (0x2768, 0x276A, 0xFE59, 0xFF08, 0x27EE, 0x2985)),
    (")", (0x2769, 0x276B, 0xFE5A, 0xFF09, 0x27EF, 0x2986)),
    ("*", (0x204E, 0x2217, 0x229B, 0x2722, 0x2723, 0x2724, 0x2725, 0x2731, 0x2732, 0x2733)),
    ("*", (0x273A, 0x273B, 0x273C, 0x273D, 0x2743, 0x2749, 0x274A, 0x274B, 0x29C6, 0xFE61)),
    ("*", (0xFF0A,)),
    ("+", (0x02D6, 0xFE62, 0xFF0B)),
    # 122-156: full stops, fullwidth digits, colons and other ASCII look-alikes.
    (".", (0x3002, 0xFE52, 0xFF0E, 0xFF61)),
    ("0", (0xFF10,)), ("1", (0xFF11,)), ("2", (0xFF12,)), ("3", (0xFF13,)), ("4", (0xFF14,)),
    ("5", (0xFF15,)), ("6", (0xFF16,)), ("7", (0xFF17,)), ("8", (0xFF18,)), ("9", (0xFF19,)),
    (":", (0x02D0, 0x02F8, 0x2982, 0xA789, 0xFE13, 0xFF1A)),
    (";", (0x204F, 0xFE14, 0xFE54, 0xFF1B)),
    ("<", (0xFE64, 0xFF1C)),
    ("=", (0x0347, 0xA78A, 0xFE66, 0xFF1D)),
    (">", (0xFE65, 0xFF1E)),
    ("?", (0xFE16, 0xFE56, 0xFF1F)),
    # 157-206: fullwidth capitals, then the small-capital letter where Unicode has one
    # (there is none in the table for Q and X).
    ("A", (0xFF21, 0x1D00)), ("B", (0xFF22, 0x0299)), ("C", (0xFF23, 0x1D04)),
    ("D", (0xFF24, 0x1D05)), ("E", (0xFF25, 0x1D07)), ("F", (0xFF26, 0xA730)),
    ("G", (0xFF27, 0x0262)), ("H", (0xFF28, 0x029C)), ("I", (0xFF29, 0x026A)),
    ("J", (0xFF2A, 0x1D0A)), ("K", (0xFF2B, 0x1D0B)), ("L", (0xFF2C, 0x029F)),
    ("M", (0xFF2D, 0x1D0D)), ("N", (0xFF2E, 0x0274)), ("O", (0xFF2F, 0x1D0F)),
    ("P", (0xFF30, 0x1D18)), ("Q", (0xFF31,)), ("R", (0xFF32, 0x0280)),
    ("S", (0xFF33, 0xA731)), ("T", (0xFF34, 0x1D1B)), ("U", (0xFF35, 0x1D1C)),
    ("V", (0xFF36, 0x1D20)), ("W", (0xFF37, 0x1D21)), ("X", (0xFF38,)),
    ("Y", (0xFF39, 0x028F)), ("Z", (0xFF3A, 0x1D22)),
    # 207-225: look-alikes of extension-table characters; each result costs two septets.
    ("^", (0x02C6, 0x0302, 0xFF3E, 0x1DCD)),
    ("{", (0x2774, 0xFE5B, 0xFF5B)),
    ("}", (0x2775, 0xFE5C, 0xFF5D)),
    ("[", (0xFF3B,)),
    ("]", (0xFF3D,)),
    ("~", (0x02DC, 0x02F7, 0x0303, 0x0330, 0x0334, 0x223C, 0xFF5E)),
    # 226-244: quirk kept verbatim: NBSP, typographic spaces and some C1 controls -> TWO spaces.
    ("  ", (0x00A0, 0x2000, 0x2002, 0x2003, 0x2004, 0x2005, 0x2006, 0x2007, 0x2008, 0x2009)),
    ("  ", (0x200A, 0x202F, 0x205F, 0x3000, 0x008D, 0x009F, 0x0080, 0x0090, 0x009B)),
    # 245-256: invisible C0 controls and WORD JOINER are deleted; TAB becomes SEVEN spaces.
    ("", (0x0010,)),
    ("       ", (0x0009,)),
    ("", (0x0000, 0x0003, 0x0004, 0x0017, 0x0019, 0x0011, 0x0012, 0x0013, 0x0014, 0x2060)),
    # 257-270: later additions, including the everyday dashes, ellipsis and bullet.
    ("_", (0x2017,)),
    ("-", (0x2014, 0x2013)),
    (">", (0x2039,)),  # quirk kept verbatim: "‹" becomes ">"
    ("<", (0x203A,)),  # quirk kept verbatim: "›" becomes "<"
    ("!!", (0x203C,)),
    (" ", (0x2028, 0x2029)),  # line/paragraph separators: ONE space, unlike the spaces above
    ("...", (0x2026,)),
    (" ", (0x2001,)),  # EM QUAD: one space, although EN QUAD (U+2000) gets two
    ("", (0x200B,)),
    (",", (0x3001,)),
    ("", (0xFEFF,)),
    ("-", (0x2022,)),
)
# fmt: on

#: Character -> its GSM-7 replacement (possibly empty or several characters); 270 entries.
SMART_ENCODING_MAP: Mapping[str, str] = MappingProxyType(
    {chr(code): replacement for replacement, codes in _RUNS for code in codes}
)


def smart_encode(text: str) -> str:
    """Replace GSM-7 look-alikes so the text can be sent as GSM-7, if that fully succeeds.

    Args:
        text: The message body as the flow author wrote it.

    Returns:
        The text with every character in :data:`SMART_ENCODING_MAP` replaced, when the
        result is entirely GSM-7; otherwise ``text`` unchanged (for example when it also
        contains an emoji, Cyrillic or CJK, which will force UCS-2 whatever we do).
    """
    # Fast path: no map key is itself GSM-7, so a GSM-7 text has nothing to replace.
    if is_gsm7(text):
        return text
    candidate = "".join(SMART_ENCODING_MAP.get(char, char) for char in text)
    return candidate if is_gsm7(candidate) else text
