"""Field readers shared by the carrier adapters.

JSON readers for Telnyx, Bandwidth and Sinch (the body itself, then its
fields); form readers for Plivo and the Vonage SMS API.

Each refuses bad input with a ``WebhookError`` that names the field and what
was expected, never another exception: a webhook parser must turn every input
into either a message or a clear 4xx.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from xml.sax.saxutils import escape

from bot.carriers.base import JsonBodyError, WebhookError, WebhookRequest

__all__ = [
    "MAX_INBOUND_MEDIA",
    "MAX_INBOUND_TEXT",
    "bounded",
    "e164",
    "env_url",
    "error_code",
    "form_fields",
    "has_surrogate",
    "header",
    "json_body",
    "json_list",
    "json_object",
    "matching",
    "receipt_number",
    "required",
    "string",
    "xml_text",
]

# Far above any SMS or MMS a carrier delivers (a long SMS arrives joined up to
# 1,600 characters at most carriers; an MMS holds 10 attachments, carriers.md
# §4.6, §5.5, §6.5): these only bound the work and storage one webhook can cause.
MAX_INBOUND_TEXT = 10_000
MAX_INBOUND_MEDIA = 10

_SURROGATE = re.compile("[\ud800-\udfff]")
# XML 1.0 forbids most C0 controls even as references; a reply holding one would
# make the carrier reject the whole document (Twilio error 12100).
_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
# An XML parser turns a literal CR (and CRLF) into LF: written as a reference,
# the text reaches the phone as the flow wrote it.
_KEEP_CR = {"\r": "&#13;"}


def xml_text(text: str) -> str:
    """``text`` as XML element content (TwiML, Plivo XML): escaped, forbidden controls dropped, CRs kept."""
    return escape(_XML_INVALID.sub("", text), _KEEP_CR)


def env_url(env: Mapping[str, str], name: str, default: str = "") -> str:
    """A URL setting (an API base, a status callback): ``default`` when unset, else http(s).

    Read at start, so a mistyped one stops the server with its name rather
    than failing every send later.
    """
    url = env.get(name, "").strip() or default
    if url and not url.startswith(("https://", "http://")):
        raise ValueError(f"{name} should be an http(s) URL, got '{url}'")
    return url


def has_surrogate(text: str) -> bool:
    """A lone surrogate: from JSON's "\\ud800" escape or a raw non-UTF-8 byte in a URL.

    Such text can be neither signed (it has no UTF-8) nor stored.
    """
    return _SURROGATE.search(text) is not None


def header(headers: Mapping[str, str], name: str) -> str:
    # aiohttp's headers are case-insensitive; a plain dict (tests, other servers) is not.
    value = headers.get(name)
    if value is None:
        value = next((v for k, v in headers.items() if k.lower() == name), "")
    return value.strip()


def json_body(request: WebhookRequest) -> object:
    """The request's JSON body, parsed once per request, or the 400 Telnyx, Bandwidth and Sinch give.

    The body must be strict UTF-8; a body that is not says at which byte.
    """
    try:
        return request.json_body()
    except JsonBodyError as exc:
        if exc.undecodable_at is not None:
            message = f"the body is not valid UTF-8 (byte {exc.undecodable_at})"
            raise WebhookError(400, "invalid_encoding", message) from exc
        if exc.too_deep:
            raise WebhookError(400, "invalid_json", "the JSON body is nested too deeply") from exc
        raise WebhookError(400, "invalid_json", f"the body is not valid JSON: {exc}") from exc


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


def form_fields(pairs: Iterable[tuple[str, str]]) -> dict[str, str]:
    """Form parameters by name; a name given twice with different values is refused."""
    fields: dict[str, str] = {}
    for name, value in pairs:
        if fields.get(name, value) != value:
            raise WebhookError(400, "duplicate_field", f"parameter {name[:40]!r} is given twice with different values")
        # A lone surrogate (a raw URL, or JSON's "\ud800" escape) can be neither signed nor stored.
        if "\x00" in value or has_surrogate(name + value):
            raise WebhookError(400, "invalid_field", f"parameter {name[:40]!r} has a NUL or an unpaired surrogate")
        fields[name] = value
    return fields


def required(fields: Mapping[str, str], name: str, pattern: re.Pattern[str]) -> str:
    """A form parameter that must be present and match ``pattern``."""
    value = fields.get(name, "")
    if not value:
        raise WebhookError(400, "missing_field", f"required parameter {name} is missing or empty")
    if not pattern.fullmatch(value):
        raise WebhookError(400, "invalid_field", f"parameter {name} has an unexpected form: {value[:40]!r}")
    return value


def e164(value: str) -> str:
    """A number as textdesk keys it: carriers that omit E.164's ``+`` get it back."""
    digits = value.removeprefix("+")
    return "+" + digits if digits.isascii() and digits.isdigit() and 7 <= len(digits) <= 15 else value


def bounded(text: str, media_count: int, where: str = "the message") -> str:
    """``text``, unless it or the attachments are over the inbound bounds: then a 400 ``too_long``."""
    if len(text) > MAX_INBOUND_TEXT or media_count > MAX_INBOUND_MEDIA:
        raise WebhookError(400, "too_long", f"{where} has {len(text)} characters and {media_count} attachments; "
                           f"at most {MAX_INBOUND_TEXT} and {MAX_INBOUND_MEDIA} are accepted")  # fmt: skip
    return text


ERROR_CODE_MAX = 16  # a carrier's error code ("21610", "4775"), as every adapter stores it
_RECEIPT_NUMBER = re.compile(r"\+?[A-Za-z0-9]{1,32}")


def error_code(value: object) -> str:
    """A receipt's error code as stored: a JSON string or integer (never a bool), cut to 16 characters."""
    if isinstance(value, bool) or not isinstance(value, str | int):
        return ""
    return str(value)[:ERROR_CODE_MAX]


def receipt_number(value: object) -> str:
    """A number named in a receipt, or "" when it is none: it is only a fallback for the consent ledger."""
    return value if isinstance(value, str) and _RECEIPT_NUMBER.fullmatch(value) else ""
