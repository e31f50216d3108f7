"""Reading a JSON request body into typed values, or refusing with a documented code.

``Body`` is consumed field by field and finally asked for leftovers, so a
misspelt field (``"varaibles"``) is refused instead of silently ignored.
Bodies are read from the stream with the API's own limit: broadcasts carry
thousands of numbers, more than the 64 KiB the webhooks accept.
"""

from __future__ import annotations

import asyncio
import json
import math
import re
from typing import Any

import phonenumbers
from aiohttp import web
from aiohttp.web_protocol import RequestPayloadError

from bot.api.errors import ApiError
from bot.api.numbers import NumberError, to_e164
from bot.carriers.base import WebhookError
from bot.carriers.fields import string

__all__ = ["MAX_API_BODY", "MAX_NAME", "Body", "check_name", "read_body", "read_query"]

MAX_API_BODY = 4 * 1024 * 1024  # about 100,000 numbers in one broadcast
# Patterns of this package are used with fullmatch: "$" would also match before a final
# newline, letting "deals\n" through as a name.
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*")  # flow, state and audience names (as the loader)
MAX_NAME = 100
INLINE_NUMBERS = 200  # numbers parsed on the event loop (about 5 ms); more go to a worker thread


def check_name(value: str, field: str) -> None:
    """Refuse a flow, state, channel or audience name, saying the whole rule and what was wrong."""
    if len(value) <= MAX_NAME and _NAME.fullmatch(value):
        return
    got = f"{len(value)} characters" if len(value) > MAX_NAME else json.dumps(value)
    raise ApiError("invalid_field", f"'{field}' should be a name of 1 to {MAX_NAME} characters: letters, digits, "
                   f"'_' and '-', starting with a letter or digit; got {got}", field=field)


async def read_body(request: web.Request, limit: int = MAX_API_BODY) -> Body:
    if request.content_type != "application/json":
        raise ApiError("unsupported_media_type", f"send JSON with Content-Type: application/json, "
                       f"not '{request.content_type}'")
    data = bytearray()
    try:
        while chunk := await request.content.read(65536):
            data += chunk
            if len(data) > limit:
                raise ApiError("body_too_large", f"the request body is larger than the limit of {limit} bytes")
    except RequestPayloadError as exc:
        # aiohttp decodes a Content-Encoding as it reads: a body that is not what the
        # header says ended here (a 500 and a traceback in the log).
        encoding = request.headers.get("Content-Encoding", "")[:40]
        raise ApiError("invalid_json", f"the body could not be decoded as its 'Content-Encoding: {encoding}' says; "
                       "send it as that header says, or without the header") from exc
    try:
        value = json.loads(data or b"{}", parse_constant=_not_json, object_pairs_hook=_unique_keys)
    except RecursionError as exc:
        raise ApiError("invalid_json", "the body is not valid JSON: nested too deeply") from exc
    except ValueError as exc:  # JSONDecodeError, UnicodeDecodeError, and integers over 4300 digits
        # Python's own words for the last end with advice to call sys.set_int_max_str_digits().
        why = "an integer in it has more than 4300 digits" if "integer string conversion" in str(exc) else str(exc)
        raise ApiError("invalid_json", f"the body is not valid JSON: {why}") from exc
    if not isinstance(value, dict):
        raise ApiError("invalid_json", f"the body should be a JSON object, got {type(value).__name__}")
    return Body(value)


def read_query(request: web.Request, names: tuple[str, ...] = ()) -> Body:
    """The query string as a ``Body``: each parameter at most once, and only ``names``.

    Every API endpoint reads its query through this (those taking none with no
    ``names``), so ``?limit=5&limit=6`` is refused wherever it is sent rather
    than read as one of the two, and a parameter the endpoint does not take
    (``POST /api/broadcasts?from=...``) is refused rather than ignored.
    """
    values: dict[str, str] = {}
    for key, value in request.query.items():
        if key in values:
            times = len(request.query.getall(key))
            raise ApiError("invalid_field", f"the query parameter '{key}' is given {times} times; give it once",
                           field=key)
        values[key] = value
    unknown = sorted(set(values) - set(names))
    if unknown:
        listed = ", ".join(f"'{key}'" for key in unknown)
        takes = f"it takes {', '.join(names)}" if names else "it takes none"
        raise ApiError("unknown_field", f"unknown query parameter(s) {listed} for this endpoint ({takes})",
                       field=unknown[0])
    return Body(values, in_query=True)


def _not_json(constant: str) -> Any:
    # Python's parser takes NaN and Infinity, which JSON (RFC 8259) does not have.
    raise ValueError(f"{constant} is not a JSON value")


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # A field given twice is ambiguous ("to" twice: which number?): refused, not last-one-wins.
    value: dict[str, Any] = {}
    for key, item in pairs:
        if key in value:
            raise ValueError(f"the field '{key}' appears more than once in one object")
        value[key] = item
    return value


def _check_sendable(value: str, name: str) -> None:
    # JSON can carry both ("\u0000", "\ud800"): a lone surrogate has no UTF-8 (SQLite and the
    # carriers would fail on it) and a NUL is no text a phone shows. The webhooks' check.
    try:
        string(value, f"'{name}'")
    except WebhookError as exc:
        raise ApiError("invalid_field", f"{exc.message}; send whole characters (no \\u0000, and no half of "
                       "a pair like \\ud83d\\ude00)", field=name) from None


class Body:
    """One JSON object; each getter removes the field it reads."""

    def __init__(self, data: dict[str, Any], in_query: bool = False) -> None:
        self.data = dict(data)
        self.in_query = in_query
        self.region = ""
        region = self.text("region", required=False, max_length=2).upper()
        if region and region not in phonenumbers.SUPPORTED_REGIONS:
            raise ApiError("invalid_field", f"'region' should be an ISO 3166 country code like US, got '{region}'",
                           field="region")
        self.region = region

    def has(self, name: str) -> bool:
        return self.data.get(name) is not None

    def _take(self, name: str, required: bool) -> Any:
        value = self.data.pop(name, None)
        if value is None or value == "":
            if required:
                raise ApiError("missing_field", f"required field '{name}' is missing or empty", field=name)
            return None
        return value

    def text(self, name: str, required: bool = True, max_length: int = 1600) -> str:
        value = self._take(name, required)
        if value is None:
            return ""
        if not isinstance(value, str):
            raise ApiError("invalid_field", f"'{name}' should be a string", field=name)
        if len(value) > max_length:
            raise ApiError("invalid_field", f"'{name}' is longer than {max_length} characters", field=name)
        _check_sendable(value, name)
        return value

    def name(self, name: str, required: bool = True) -> str:
        value = self._take(name, required)
        if value is None:
            return ""
        if not isinstance(value, str):
            raise ApiError("invalid_field", f"'{name}' should be a string", field=name)
        check_name(value, name)
        return value

    def integer(self, name: str, low: int, high: int, default: int) -> int:
        value = self._take(name, required=False)
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise ApiError("invalid_field", f"'{name}' should be a whole number from {low} to {high}", field=name)
        return value

    def number(self, name: str, required: bool = True) -> str:
        raw = self.text(name, required, max_length=40)
        return self.parse_number(raw, name) if raw else ""

    def parse_number(self, raw: object, name: str) -> str:
        if not isinstance(raw, str):
            raise ApiError("malformed_number", f"'{name}' should be a phone number string", field=name)
        try:
            return to_e164(raw, self.region)
        except NumberError as exc:
            # A '+' written as is in a query string is read as a space (form encoding).
            spaced = self.in_query and raw[:1] == " "
            hint = "; a '+' in a query string reads as a space: write it %2B" if spaced else ""
            raise ApiError("malformed_number", f"'{name}': {exc}{hint}", field=name) from exc

    async def numbers(self, name: str, required: bool = True, most: int = 100_000) -> list[str]:
        """A list of numbers, normalised, duplicates dropped (first one kept).

        Parsing a number takes about 24 us (libphonenumber is pure Python), so
        100,000 of them held the event loop, and every webhook, for 2.4 s. A
        long list is parsed on a worker thread: the interpreter hands the loop
        the GIL every few milliseconds meanwhile.
        """
        value = self._take(name, required)
        if value is None:
            return []
        if not isinstance(value, list) or not value or len(value) > most:
            raise ApiError("invalid_field", f"'{name}' should be a list of 1 to {most} numbers", field=name)
        if len(value) <= INLINE_NUMBERS:
            return self._parse_numbers(name, value)
        return await asyncio.to_thread(self._parse_numbers, name, value)

    def _parse_numbers(self, name: str, value: list[Any]) -> list[str]:
        seen: dict[str, None] = {}
        for index, raw in enumerate(value):
            seen.setdefault(self.parse_number(raw, f"{name}[{index}]"))
        return list(seen)

    def strings(self, name: str, most: int = 10) -> tuple[str, ...]:
        value = self._take(name, required=False)
        if value is None:
            return ()
        if not isinstance(value, list) or len(value) > most or not all(isinstance(v, str) and v for v in value):
            raise ApiError("invalid_field", f"'{name}' should be a list of at most {most} strings", field=name)
        for item in value:
            _check_sendable(item, name)
        return tuple(value)

    def variables(self, name: str = "variables") -> dict[str, str]:
        value = self._take(name, required=False)
        if value is None:
            return {}
        if not isinstance(value, dict) or len(value) > 50:
            raise ApiError("invalid_field", f"'{name}' should be an object of at most 50 entries", field=name)
        out: dict[str, str] = {}
        for key, item in value.items():
            if not _IDENTIFIER.fullmatch(key):
                raise ApiError("invalid_field", f"variable name '{key}' should use letters, digits and '_'",
                               field=name)
            if not isinstance(item, str | int | float) or isinstance(item, bool) or len(str(item)) > 500:
                raise ApiError("invalid_field", f"variable '{key}' should be a string of at most 500 characters",
                               field=name)
            if isinstance(item, float) and not math.isfinite(item):  # 1e400 reads as infinity
                raise ApiError("invalid_field", f"variable '{key}' is a number too large to write; send it as a "
                               "string", field=name)
            _check_sendable(str(item), name)
            out[key] = str(item)
        return out

    def done(self) -> None:
        """Refuse fields nobody read."""
        if self.data:
            names = ", ".join(f"'{key}'" for key in sorted(self.data))
            raise ApiError("unknown_field", f"unknown field(s) {names}", field=sorted(self.data)[0])
