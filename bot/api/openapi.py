"""The OpenAPI 3.1 description of the API, served at ``GET /api/openapi.json``.

Written by hand next to the handlers and kept true by tests/test_api_openapi.py,
which compares it with the routes actually mounted and with every error code
the tests receive. Error codes and statuses come from ``bot.api.errors.ERRORS``.
"""

from __future__ import annotations

from typing import Any

from bot.api.errors import ERRORS

__all__ = ["OPENAPI", "operation_errors"]

_COMMON = ("missing_token", "invalid_token", "storage_unavailable")
_BODY = ("unsupported_media_type", "invalid_json", "body_too_large", "missing_field", "invalid_field",
         "unknown_field", "malformed_number")
_SENDER = ("unknown_flow", "flow_number_mismatch", "unknown_channel")


def _obj(required: tuple[str, ...] = (), **props: Any) -> dict[str, Any]:
    return {"type": "object", "required": list(required), "properties": props}


_S = {"type": "string"}
_NUMBER = {"type": "string", "description": "E.164, or national with 'region'", "examples": ["+15555550100"]}
_SENDER_FIELDS = {
    "flow": {**_S, "description": "flow name (default: the flow answering 'from', else the default flow)"},
    "from": {**_NUMBER, "description": "business number (default: the flow's first number)"},
    "channel": {**_S, "description": "carrier, e.g. twilio (default: the only configured one)"},
    "region": {**_S, "description": "ISO 3166 country for numbers written without +, e.g. US"},
}
_VARIABLES = {"type": "object", "additionalProperties": _S}
_COUNT_NAMES = ("total", "pending", "queued", "sent", "delivered", "failed", "skipped_opted_out",
                "skipped_no_consent")
_COUNTS = _obj(_COUNT_NAMES, **{name: {"type": "integer"} for name in _COUNT_NAMES})
_BROADCAST = _obj(
    ("id", "status", "created_at", "from", "channel", "flow", "counts"),
    id=_S, status={"enum": ["preparing", "sending", "waiting", "done"]}, created_at=_S, **{"from": _NUMBER},
    channel=_S, flow=_S,
    audience={"type": ["string", "null"]}, message={"type": ["object", "null"]}, start={"type": ["object", "null"]},
    counts=_COUNTS, waiting={"type": ["string", "null"],
                             "description": "with status 'waiting': why nothing more is sent (a flow-start "
                                            "broadcast whose state was removed from the flow); it goes on once "
                                            "that is mended"},
)
_SUBSCRIBER_PATH = "/api/audiences/{audience}/subscribers"

# (method, path) -> (summary, request schema or None, success status, response schema, error codes)
_OPERATIONS: dict[tuple[str, str], tuple[str, dict[str, Any] | None, int, dict[str, Any], tuple[str, ...]]] = {
    ("post", "/api/conversations"): (
        "Start (or restart) a flow at a state for one number; its first reply goes out through the outbox",
        _obj(("to",), to=_NUMBER, state=_S, variables=_VARIABLES, **_SENDER_FIELDS),
        201, _obj(("status", "conversation", "messages"), status=_S, conversation={"type": "object"},
                  messages={"type": "array"}),
        (*_BODY, *_SENDER, "unknown_state", "opted_out"),
    ),
    ("post", "/api/broadcasts"): (
        "Send one message or one flow start to numbers with a recorded opt-in (a current subscription to "
        "any audience of the business number), or to an audience",
        _obj((), numbers={"type": "array", "items": _NUMBER}, audience=_S, text=_S,
             media={"type": "array", "items": _S}, state=_S, variables=_VARIABLES, **_SENDER_FIELDS),
        202, _BROADCAST,
        (*_BODY, *_SENDER, "unknown_state", "empty_audience", "idempotency_key_reused"),
    ),
    ("get", "/api/broadcasts/{id}"): (
        "A broadcast's progress", None, 200, _BROADCAST, ("invalid_field", "unknown_field", "not_found"),
    ),
    ("get", _SUBSCRIBER_PATH): (
        "An audience's current subscribers, by number (page with 'limit' and 'after')", None, 200,
        _obj(("audience", "from", "subscribers", "next"), audience=_S, **{"from": _NUMBER},
             subscribers={"type": "array"}, next={"type": ["string", "null"]}),
        ("invalid_field", "unknown_field", "malformed_number", "missing_field", "unknown_flow",
         "flow_number_mismatch"),
    ),
    ("post", _SUBSCRIBER_PATH): (
        "Subscribe numbers whose consent was collected elsewhere ('source' says where); opted-out numbers are not",
        _obj(("numbers", "source"), numbers={"type": "array", "items": _NUMBER}, source=_S,
             flow=_S, region=_S, **{"from": _NUMBER}),
        200, _obj(("audience", "from", "results"), results={"type": "array"}),
        (*_BODY, "unknown_flow", "flow_number_mismatch"),
    ),
    ("delete", _SUBSCRIBER_PATH + "/{number}"): (
        "Unsubscribe one number (recorded in the consent ledger)", None, 200,
        _obj(("audience", "from", "number", "removed")),
        ("invalid_field", "unknown_field", "malformed_number", "missing_field", "unknown_flow",
         "flow_number_mismatch", "not_found"),
    ),
    ("post", "/api/verifications"): (
        "Text a one-time numeric code in the flow's brand (GSM-7)",
        _obj(("to",), to=_NUMBER, length={"type": "integer", "minimum": 4, "maximum": 10, "default": 6},
             expires_in={"type": "integer", "minimum": 60, "maximum": 3600, "default": 600}, **_SENDER_FIELDS),
        201, _obj(("id", "status", "to", "expires_at")),
        (*_BODY, *_SENDER, "opted_out", "rate_limited"),
    ),
    ("post", "/api/verifications/check"): (
        "Check a code: approved, or wrong_code with attempts_left",
        _obj(("to", "code"), to=_NUMBER, code=_S, flow=_S, region=_S, **{"from": _NUMBER}),
        200, _obj(("id", "status"), status={"const": "approved"}),
        (*_BODY, "unknown_flow", "flow_number_mismatch", "verification_not_found", "verification_expired",
         "wrong_code", "too_many_attempts", "rate_limited"),
    ),
    ("get", "/api/openapi.json"): ("This document", None, 200, {"type": "object"}, ()),
}


def operation_errors(method: str, path: str) -> tuple[str, ...]:
    """The error codes documented for one operation (authentication ones included)."""
    *_, codes = _OPERATIONS[(method.lower(), path)]
    return codes if path == "/api/openapi.json" else (*_COMMON, *codes)


def _operation(method: str, path: str) -> dict[str, Any]:
    summary, request, status, response, _ = _OPERATIONS[(method, path)]
    codes = operation_errors(method, path)
    responses: dict[str, Any] = {str(status): {"description": "success",
                                               "content": {"application/json": {"schema": response}}}}
    for code in codes:
        http, meaning = ERRORS[code]
        entry = responses.setdefault(str(http), {"description": "", "content": {"application/json": {
            "schema": {"$ref": "#/components/schemas/Error"}}}, "x-error-codes": []})
        entry["x-error-codes"].append(code)
        entry["description"] = "; ".join(filter(None, [entry["description"], f"{code}: {meaning}"]))
    operation: dict[str, Any] = {"summary": summary, "responses": responses}
    parameters = [{"name": name[1:-1], "in": "path", "required": True, "schema": _S}
                  for name in path.split("/") if name.startswith("{")]
    if method == "get" and "subscribers" in path:
        parameters += [{"name": n, "in": "query", "schema": _S} for n in ("from", "flow", "region", "limit", "after")]
    if method == "delete":
        parameters += [{"name": n, "in": "query", "schema": _S} for n in ("from", "flow", "region")]
    if path == "/api/broadcasts":
        parameters.append({"name": "Idempotency-Key", "in": "header", "schema": _S,
                           "description": "a retry with the same key returns the first broadcast (200); "
                                          "another request with it is refused (idempotency_key_reused)"})
    if parameters:
        operation["parameters"] = parameters
    if request is not None:
        operation["requestBody"] = {"required": True, "content": {"application/json": {"schema": request}}}
    if path == "/api/openapi.json":
        operation["security"] = []
    return operation


_ANY_PATH = {"NotFound": "not_found", "MethodNotAllowed": "method_not_allowed"}


def _generic(code: str) -> dict[str, Any]:
    response: dict[str, Any] = {
        "description": f"{code}: {ERRORS[code][1]}", "x-status": ERRORS[code][0], "x-error-codes": [code],
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }
    if code == "method_not_allowed":
        response["headers"] = {"Allow": {"description": "the methods the path takes", "schema": _S}}
    return response


def _paths() -> dict[str, Any]:
    paths: dict[str, Any] = {}
    for method, path in _OPERATIONS:
        paths.setdefault(path, {})[method] = _operation(method, path)
    return paths


OPENAPI: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {"title": "textdesk API", "version": "1",
             "description": "Business-initiated messages: conversations, broadcasts, audiences, verification "
                            "codes. Errors are {\"error\": {\"code\", \"message\", ...}}. A query parameter given "
                            "twice is refused (invalid_field), and so is one an operation does not take "
                            "(unknown_field). Any path under /api may also answer not_found (404: no operation "
                            "there) or method_not_allowed (405, with 'Allow'): components.responses."},
    "security": [{"bearer": []}],
    "components": {
        # What any path under /api may answer besides its operations' own errors:
        # a path no operation has, or a method the path does not take.
        "responses": {name: _generic(code) for name, code in _ANY_PATH.items()},
        "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer",
                                       "description": "one of TEXTDESK_API_TOKENS"}},
        "schemas": {"Error": _obj(("error",), error=_obj(
            ("code", "message"), code={"enum": sorted(ERRORS)}, message=_S, field=_S,
            attempts_left={"type": "integer"}, retry_after={"type": "integer"},
            opted_out={"type": "boolean", "description": "with not_found from DELETE of a subscriber: the number "
                                                         "opted out (texted STOP), which ended its subscription"}))},
    },
    "paths": _paths(),
}
