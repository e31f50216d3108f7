"""The GSM 03.38 default alphabet (3GPP TS 23.038): which characters an SMS can carry in 7 bits.

A message whose every character is in the basic table or the extension table is sent as
GSM-7 (160 septets in a single SMS); a single character outside both forces the whole message
to UCS-2 (70 code units). Everything else in :mod:`bot.sms` asks this module one question:
"how many septets does this character cost, if any?"

The tables are transcribed from the reference (carriers.md §10.1 and §10.2), which cross-checked
them against 3GPP TS 23.038 and Twilio's segment calculator. They are written out as rows of
sixteen septets so a reviewer can hold them against the standard's grid line by line.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

__all__ = ["is_gsm7", "septet_cost"]

#: The septet that switches to the extension table for the next septet. It is not a character:
#: a text containing U+001B itself cannot be sent as GSM-7.
ESCAPE = 0x1B

# Index = septet value. Position 0x1B holds a placeholder for the escape, never a character.
# Traps worth a second look when editing: 0x00 is "@", 0x02 is "$" while 0x24 is the currency
# sign "¤", 0x09 is *capital* Ç (lowercase ç is not GSM-7 at all), and the Greek capitals are
# the Greek code points (Δ U+0394, Ω U+03A9), not the look-alike math symbols (U+2206, U+2126).
_BASIC_TABLE = (
    "@£$¥èéùìòÇ\nØø\rÅå"  # 0x00-0x0F
    "Δ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ"  # 0x10-0x1F (0x1B: escape placeholder)
    " !\"#¤%&'()*+,-./"  # 0x20-0x2F
    "0123456789:;<=>?"  # 0x30-0x3F
    "¡ABCDEFGHIJKLMNO"  # 0x40-0x4F
    "PQRSTUVWXYZÄÖÑÜ§"  # 0x50-0x5F
    "¿abcdefghijklmno"  # 0x60-0x6F
    "pqrstuvwxyzäöñüà"  # 0x70-0x7F
)

#: Character -> septet for the 127 characters of the basic table (the escape excluded).
GSM7_BASIC_CODES: Mapping[str, int] = MappingProxyType(
    {char: code for code, char in enumerate(_BASIC_TABLE) if code != ESCAPE}
)

#: The characters of the basic table; each costs one septet.
GSM7_BASIC_CHARS: frozenset[str] = frozenset(GSM7_BASIC_CODES)

#: Character -> the septet that follows ESC. Each costs two septets, which is why a message
#: full of "{" or "€" fits fewer characters than 160 even though it stays GSM-7. US carriers do
#: not use the national single/locking shift tables, so only this default extension is modelled.
GSM7_EXTENSION_CODES: Mapping[str, int] = MappingProxyType(
    {
        "\f": 0x0A,  # form feed
        "^": 0x14,
        "{": 0x28,
        "}": 0x29,
        "\\": 0x2F,
        "[": 0x3C,
        "~": 0x3D,
        "]": 0x3E,
        "|": 0x40,
        "€": 0x65,
    }
)

#: The characters reached through the escape; each costs two septets.
GSM7_EXTENSION_CHARS: frozenset[str] = frozenset(GSM7_EXTENSION_CODES)


def septet_cost(char: str) -> int | None:
    """Return how many septets one character takes in GSM-7.

    Args:
        char: A single character (one code point).

    Returns:
        1 for a basic-table character, 2 for an extension-table character (ESC plus its
        code), or ``None`` when the character has no GSM-7 encoding and so forces UCS-2.
    """
    if char in GSM7_BASIC_CHARS:
        return 1
    if char in GSM7_EXTENSION_CHARS:
        return 2
    return None


def is_gsm7(text: str) -> bool:
    """Tell whether a whole text can be sent in the GSM-7 alphabet.

    Args:
        text: The message body.

    Returns:
        ``True`` when every character is in the basic or extension table (the empty text
        included), ``False`` when at least one character would force UCS-2.
    """
    return all(char in GSM7_BASIC_CHARS or char in GSM7_EXTENSION_CHARS for char in text)
