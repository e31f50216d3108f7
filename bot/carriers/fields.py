"""Field readers shared by the JSON carriers (Telnyx, Bandwidth, Sinch).

Each refuses bad input with a ``WebhookError`` that names the field and what
was expected, never another exception: a webhook parser must turn every input
into either a message or a clear 4xx.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from bot.carriers.base import WebhookError

__all__ = ["header", "json_list", "json_object", "matching", "string"]


def header(headers: Mapping[str, str], name: str) -> str:
    # aiohttp's headers are case-insensitive; a plain dict (tests, other servers) is not.
    value = headers.get(name)
    if value is None:
        value = next((v for k, v in headers.items() if k.lower() == name), "")
    return value.strip()


def json_object(value: object, where: str) -> dict[str, object]:
    if not isinstance(value, dict):
        code = "missing_field" if value is None else "invalid_field"
        raise WebhookError(400, code, f"{where} should be a JSON object")
    return value


def json_list(value: object, where: str) -> list[object]:
    if not isinstance(value, list):
        code = "missing_field" if value is None else "invalid_field"
        raise WebhookError(400, code, f"{where} should be a JSON array")
    return value


def string(value: object, where: str, optional: bool = False) -> str:
    if value is None and optional:
        return ""
    if value is None:
        raise WebhookError(400, "missing_field", f"{where} is missing")
    if not isinstance(value, str):
        raise WebhookError(400, "invalid_field", f"{where} should be a string")
    if "\x00" in value:
        raise WebhookError(400, "invalid_field", f"{where} contains a NUL character")
    try:
        value.encode("utf-8")  # JSON escapes can smuggle in lone surrogates, which no store can save
    except UnicodeEncodeError:
        raise WebhookError(400, "invalid_field", f"{where} contains an unpaired UTF-16 surrogate") from None
    return value


def matching(value: object, where: str, pattern: re.Pattern[str], what: str) -> str:
    text = string(value, where)
    if not pattern.fullmatch(text):
        raise WebhookError(400, "invalid_field", f"{where} should be {what}, got {text[:40]!r}")
    return text
