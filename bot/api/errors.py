"""API refusals: every code the API can answer with, its HTTP status and meaning.

Raising ``ApiError("code", message)`` looks the status up here, so a handler
cannot invent an undocumented code: the OpenAPI document lists this table, and
a test checks that every code the API returns is in it.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web
from aiohttp.typedefs import Handler

__all__ = ["ERRORS", "ApiError", "api_errors", "error_response"]

# code -> (HTTP status, what it means); the OpenAPI document is built from this.
ERRORS: dict[str, tuple[int, str]] = {
    "missing_token": (401, "no 'Authorization: Bearer <token>' header"),
    "invalid_token": (401, "the bearer token is not one of TEXTDESK_API_TOKENS"),
    "unsupported_media_type": (415, "the body is not application/json"),
    "invalid_json": (400, "the body is not a JSON object"),
    "body_too_large": (413, "the body is larger than the API's limit"),
    "missing_field": (400, "a required field is missing or empty"),
    "invalid_field": (400, "a field has the wrong type, length or range"),
    "unknown_field": (400, "the body has a field this endpoint does not take (a typo?)"),
    "malformed_number": (400, "a phone number is not a possible number; use E.164 like +15555550100"),
    "unknown_flow": (422, "no loaded flow has that name"),
    "unknown_state": (422, "the flow has no state of that name"),
    "unknown_channel": (422, "no configured carrier has that name, or several are configured and none was named"),
    "flow_number_mismatch": (422, "the business number is answered by another flow"),
    "empty_audience": (422, "the audience has no current subscribers"),
    "idempotency_key_reused": (422, "the Idempotency-Key was sent before with a different request; use a new key"),
    "opted_out": (409, "the recipient has opted out (texted STOP); only they can opt back in"),
    "not_found": (404, "no such resource, or no API operation at that path"),
    "method_not_allowed": (405, "the path takes other methods; the 'Allow' header lists them"),
    "verification_not_found": (404, "no open verification for this number"),
    "verification_expired": (410, "the code has expired; request a new one"),
    "wrong_code": (422, "the code is wrong; 'attempts_left' says how many tries remain"),
    "too_many_attempts": (429, "the code was tried too often; request a new one"),
    "rate_limited": (429, "too many requests for this number or client; 'retry_after' says when to retry"),
    # Raised by the server's error middleware (bot.web.errors) for any store failure.
    "storage_unavailable": (503, "the database is unavailable (locked by another process, disk full); retry later"),
}


class ApiError(Exception):
    """A refusal with a documented ``code``; ``extra`` fields join the error object."""

    def __init__(self, code: str, message: str, headers: dict[str, str] | None = None, **extra: Any) -> None:
        super().__init__(message)
        self.status = ERRORS[code][0]
        self.code = code
        self.message = message
        self.headers = headers or {}
        self.extra = extra


def error_response(error: ApiError) -> web.Response:
    body = {"error": {"code": error.code, "message": error.message, **error.extra}}
    return web.json_response(body, status=error.status, headers=error.headers)


@web.middleware
async def api_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except ApiError as exc:
        return error_response(exc)
    except web.HTTPNotFound:
        # aiohttp's routing: no operation at this path. The server's own error
        # middleware made it JSON, but with aiohttp's "404: Not Found".
        return error_response(ApiError("not_found", f"no API operation {_said(request)}; /api/openapi.json lists "
                                                    "them"))
    except web.HTTPMethodNotAllowed as exc:
        # RFC 9110 15.5.6: a 405 says which methods the resource takes.
        allowed = ", ".join(sorted(exc.allowed_methods))
        return error_response(ApiError("method_not_allowed", f"{request.method[:20]} is not allowed on "
                                       f"{request.path[:200]}; it takes {allowed}", headers={"Allow": allowed}))


def _said(request: web.Request) -> str:
    """``GET /api/x`` as the client sent it, cut short: a message is no place for a 10 KB path."""
    return f"{request.method[:20]} {request.path[:200]}"
