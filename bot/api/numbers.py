"""Phone numbers in, E.164 out, with Google's libphonenumber metadata (``phonenumbers``).

A number is accepted when it is *possible* for its country (right length and
country code), not only when it is in a range known to be assigned: carriers
open new ranges faster than any library is updated, and the 555-01xx numbers
used in examples and tests are possible but unassigned. A wrong number is
refused by the carrier at send time and recorded as a failed send.

Numbers without a ``+`` are read as national numbers only when the request
names a ``region`` (ISO 3166 code, e.g. ``US``): guessing a country for
``0612345678`` would text a stranger.
"""

from __future__ import annotations

import phonenumbers

__all__ = ["NumberError", "to_e164"]


SHOWN_CHARS = 40  # of a refused number, in its message


class NumberError(ValueError):
    """The text is not a possible phone number; the message says why."""


def to_e164(raw: str, region: str = "") -> str:
    """``"+1 (555) 000-1234"`` -> ``"+15550001234"``; raise ``NumberError`` otherwise."""
    text = raw.strip()
    # The refusal quotes the text: a megabyte pasted by mistake is not echoed whole.
    shown = raw if len(raw) <= SHOWN_CHARS else raw[:SHOWN_CHARS] + f"... ({len(raw)} characters)"
    if text.startswith("00"):
        text = "+" + text[2:]  # the international prefix most of the world dials
    if not text.startswith("+") and not region:
        raise NumberError(f"'{shown}' has no country code; write it as +<country><number> or give 'region'")
    try:
        parsed = phonenumbers.parse(text, region.upper() or None)
    except phonenumbers.NumberParseException as exc:
        raise NumberError(f"'{shown}' is not a phone number: {exc}") from exc
    if not phonenumbers.is_possible_number(parsed):
        raise NumberError(f"'{shown}' is not a possible phone number for its country (wrong length?)")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
