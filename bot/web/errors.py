"""Every refusal is a JSON body with a machine-readable code and a clear message.

Unexpected exceptions are logged with their traceback for the operator and
answered with a short message: a carrier or API client never sees internals.
Storage faults answer 503 so that carriers retry instead of losing a message.
"""

from __future__ import annotations

import logging

from aiohttp import web
from aiohttp.typedefs import Handler

from bot.carriers.base import WebhookError
from bot.store import StoreError

__all__ = ["error_middleware", "json_error"]

log = logging.getLogger("textdesk.web")


def json_error(status: int, code: str, message: str) -> web.Response:
    return web.json_response({"error": {"code": code, "message": message}}, status=status)


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except WebhookError as exc:
        log.info("refused %s %s: %s %s", request.method, request.path, exc.status, exc.code)
        return json_error(exc.status, exc.code, exc.message)
    except StoreError as exc:
        log.error("storage unavailable on %s: %s", request.path, exc)
        return json_error(503, "storage_unavailable", "the message store is unavailable; please retry")
    except web.HTTPRequestEntityTooLarge:
        limit = request.app._client_max_size
        return json_error(413, "body_too_large", f"the request body is larger than the limit of {limit} bytes")
    except web.HTTPMethodNotAllowed as exc:
        # RFC 9110 15.5.6: a 405 says which methods the resource takes.
        allowed = ", ".join(sorted(exc.allowed_methods))
        answer = json_error(405, "method_not_allowed", f"{request.method[:20]} is not allowed here; allowed: {allowed}")
        answer.headers["Allow"] = allowed
        return answer
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        return json_error(exc.status, exc.reason.lower().replace(" ", "_"), exc.text or exc.reason)
    except Exception:
        log.exception("unexpected error on %s %s", request.method, request.path)
        return json_error(500, "internal_error", "internal error; the operator has been told")
