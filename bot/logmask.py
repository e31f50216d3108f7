"""Phone numbers never reach the logs in full.

Operators still need to tell conversations apart, so a masked number keeps its
country-code start and last two digits: ``+15555550123`` -> ``+15******23``.

Callers mask the numbers they log (``mask``); the formatters mask whatever is
left in the finished line (``mask_numbers``): a number inside a request path
the access log or a refusal prints, or inside a carrier's error message.
"""

from __future__ import annotations

import re

__all__ = ["mask", "mask_numbers"]

# E.164 as textdesk keys numbers (a "+" and 7 or more digits), also URL-encoded
# ("%2B"), as it appears in request paths. Bare digit runs are left alone (they
# are as often ids, timestamps and sizes) except as a number field's value in a
# query string. Two patterns, each starting with a
# literal, because the regex engine then skips to candidates: an alternation
# made the per-message log line's pass twice as slow.
_PLUS = re.compile(r"(\+)(\d{7,})")
_ENCODED = re.compile(r"(%2[bB])(\d{7,})")
# Numbers without the "+" as carriers put them in a GET webhook's query, which
# the access log prints whole: the Vonage SMS API's msisdn and to (GET is its
# default), Plivo's From and To. Only these names: other digit runs in a query
# are ids and timestamps.
_QUERY = re.compile(r"([?&](?:msisdn|from|to)=)(\d{7,})", re.IGNORECASE)


def mask(number: str) -> str:
    if len(number) <= 5:
        return "*" * len(number)
    return number[:3] + "*" * (len(number) - 5) + number[-2:]


def _masked(match: re.Match[str]) -> str:
    return match[1] + mask("+" + match[2])[1:]  # "+" or "%2B", then as mask() shows a number


def mask_numbers(text: str) -> str:
    """``text`` with every E.164 number in it masked like ``mask`` does."""
    if "+" in text:  # every per-message line: its masked numbers keep the "+"
        text = _PLUS.sub(_masked, text)
    if "%2" in text:
        text = _ENCODED.sub(_masked, text)
    if "?" in text and "=" in text:  # a query string: the access log's request line
        text = _QUERY.sub(_masked, text)
    return text
