"""What a Host header may hold when it becomes a public URL (no ``--public-url``).

Webhooks build the URL their signature is checked against from it, and both
webhooks and the API build the media links of MMS replies from it (in TwiML
and in the outbox's queued sends). yarl takes far more than a host: ``a"b``,
``evil/x``, ``user@evil``, ``h:99999``; an IPv6 address read through
``raw_host`` loses its brackets. One rule for both: a DNS name (ASCII, as
HTTP sends it, with the ``_`` some internal names carry), an IPv4 address or
a bracketed IPv6 one, then an optional port from 1 to 65535.
"""

from __future__ import annotations

import re

__all__ = ["valid_host"]

_LABEL = r"[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?"
_HOST = re.compile(rf"(?:{_LABEL}(?:\.{_LABEL})*\.?|\[[0-9A-Fa-f:.]{{2,45}}\])(?::(?P<port>[0-9]{{1,5}}))?")


def valid_host(host: str) -> bool:
    """Whether ``host`` is a host name or address with an optional port in range."""
    match = _HOST.fullmatch(host)
    return match is not None and 0 < int(match["port"] or 80) <= 65535
