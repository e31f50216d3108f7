"""Bearer-token authentication for the API.

Tokens come from ``TEXTDESK_API_TOKENS`` (comma-separated, so a token can be
rotated by adding the new one before removing the old). The presented token
is compared with *every* configured token in constant time, without stopping
at the first match, so neither a token's contents nor its position in the
list can be learnt from response times.
"""

from __future__ import annotations

import hmac
from collections.abc import Sequence

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

from bot.api.errors import ApiError

__all__ = ["PUBLIC_PATHS", "bearer_auth", "token_matches"]

# Paths (inside /api) that need no token: the API's own description.
PUBLIC_PATHS = frozenset({"/api/openapi.json"})
_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="textdesk"'}


def token_matches(presented: str, tokens: Sequence[str]) -> bool:
    # A header byte that is not UTF-8 arrives as a lone surrogate: back to that byte, so any
    # header is compared (and refused) like any other rather than failing to encode.
    given = presented.encode("utf-8", "surrogateescape")
    found = False
    for token in tokens:
        # Non-short-circuit "or": every token is compared whatever the outcome.
        found = hmac.compare_digest(given, token.encode()) | found
    return found


def bearer_auth(tokens: Sequence[str]) -> Middleware:
    configured = tuple(t for t in tokens if t)
    if not configured:
        raise ValueError("the API needs at least one token")

    @web.middleware
    async def authenticate(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path not in PUBLIC_PATHS:
            header = request.headers.get("Authorization", "")
            scheme, _, presented = header.partition(" ")
            if not header:
                raise ApiError("missing_token", "send 'Authorization: Bearer <token>'", headers=_CHALLENGE)
            if scheme.lower() != "bearer" or not token_matches(presented.strip(), configured):
                raise ApiError("invalid_token", "the bearer token is not valid", headers=_CHALLENGE)
        return await handler(request)

    return authenticate
