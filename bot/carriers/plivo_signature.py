"""Plivo webhook authenticity: the ``X-Plivo-Signature`` headers (carriers.md §4.2).

Plivo's messaging docs name the V2 headers and its voice docs V3, so both are
accepted, as is the legacy V1 ``X-Plivo-Signature`` (also an HMAC under the
same token, covering URL and parameters). Each is checked under
``PLIVO_AUTH_TOKEN``, as are the ``-Ma-`` variants Plivo signs with the main
account's token, so a main-account token also verifies a subaccount's webhooks.
What each covers differs, and the difference matters:
- V3 covers the URL, every parameter and a nonce;
- V2 covers only the URL (without query) and a nonce, *not the body*;
- V1 covers the URL and the POST parameters, without a nonce.
None carries a time, so none resists replay; dedupe on ``MessageUUID`` (§4.3)
is what keeps a replayed webhook from advancing a conversation.

No I/O: the adapter in bot/carriers/plivo.py reads the parameters
and hands them here.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterable, Mapping, Sequence
from typing import Any
from urllib.parse import parse_qsl, urlparse, urlunparse

from bot.carriers.base import WebhookError, WebhookRequest

__all__ = ["signature_v1", "signature_v2", "signature_v3", "verify_signatures"]

_V3 = ("X-Plivo-Signature-V3", "X-Plivo-Signature-Ma-V3")  # -Ma-: signed with the main account's token
_V2 = ("X-Plivo-Signature-V2", "X-Plivo-Signature-Ma-V2")
_V1 = "X-Plivo-Signature"


def _hmac_b64(token: str, message: str, digest: Any) -> str:
    return base64.b64encode(hmac.new(token.encode("utf-8"), message.encode("utf-8"), digest).digest()).decode()


def _base_url(url: str) -> str:
    """``scheme://netloc/path``: port kept, query and fragment dropped (as plivo-python's urlunparse)."""
    parts = urlparse(url)
    return urlunparse((parts.scheme, parts.netloc, parts.path, "", "", ""))


def _grouped(pairs: Iterable[tuple[str, str]]) -> dict[str, list[str]]:
    groups: dict[str, list[str]] = {}
    for name, value in pairs:
        groups.setdefault(name, []).append(value)
    return groups


def signature_v1(url: str, params: Iterable[tuple[str, str]], token: str) -> str:
    """Legacy ``X-Plivo-Signature``: Base64(HMAC-SHA1(token, url + sorted name+value))."""
    return _hmac_b64(token, url + "".join(name + value for name, value in sorted(params)), hashlib.sha1)


def signature_v2(url: str, nonce: str, token: str) -> str:
    """``X-Plivo-Signature-V2``: Base64(HMAC-SHA256(token, base URL + nonce)); the body is not covered."""
    return _hmac_b64(token, _base_url(url) + nonce, hashlib.sha256)


def signature_v3(method: str, url: str, params: Iterable[tuple[str, str]], nonce: str, token: str) -> str:
    """``X-Plivo-Signature-V3``: Base64(HMAC-SHA256(token, signed URL + "." + nonce)).

    The signed URL is the base URL, then for a GET ``?`` and every query parameter
    as sorted ``k=v`` joined by ``&``; for a POST with parameters ``?``, the sorted
    query (and ``.`` if there is one), then each POST parameter as ``k`` + ``v`` with
    no separator; for a POST without parameters the base URL and its sorted query.
    Repeated names contribute each value, values sorted.
    """
    query = _grouped(parse_qsl(urlparse(url).query, keep_blank_values=True))
    body = _grouped(params)
    if method.upper() == "GET":
        query = {**body, **query}  # Plivo merges given params with the URL's, the URL winning
    sorted_query = "&".join(f"{k}={v}" for k in sorted(query) for v in sorted(query[k]))
    signed = _base_url(url)
    if method.upper() != "GET" and body:
        signed += "?" + sorted_query + ("." if sorted_query else "")
        signed += "".join(k + v for k in sorted(body) for v in sorted(body[k]))
    elif sorted_query:
        signed += "?" + sorted_query
    return _hmac_b64(token, f"{signed}.{nonce}", hashlib.sha256)


def _header(headers: Mapping[str, str], name: str) -> str:
    value = headers.get(name)
    if value is None:  # a plain dict is case-sensitive; HTTP header names are not
        value = next((v for k, v in headers.items() if k.lower() == name.lower()), "")
    return value


def verify_signatures(request: WebhookRequest, pairs: Sequence[tuple[str, str]], token: str) -> None:
    """Raise 403 unless one of the request's Plivo signatures matches under ``token``.

    ``pairs`` are the request's parameters: the URL query of a GET, the form of a POST.
    """
    body_pairs = pairs if request.method.upper() == "POST" else []
    headers, url = request.headers, request.url
    # The header may list several comma-separated signatures (§4.2); any may match.
    v3 = [s.strip() for name in _V3 for s in _header(headers, name).split(",") if s.strip()]
    v2 = [s for name in _V2 if (s := _header(headers, name))]
    v1 = [s for s in [_header(headers, _V1)] if s]
    if not (v3 or v2 or v1):
        raise WebhookError(403, "missing_signature", "no X-Plivo-Signature-V3 or -V2 header")
    expected: list[tuple[str, list[str]]] = []
    try:
        if v3 and (nonce := _header(headers, "X-Plivo-Signature-V3-Nonce")):
            expected.append((signature_v3(request.method, url, pairs, nonce, token), v3))
        if v2 and (nonce := _header(headers, "X-Plivo-Signature-V2-Nonce")):
            expected.append((signature_v2(url, nonce, token), v2))
        if v1:
            expected.append((signature_v1(url, body_pairs, token), v1))
    except ValueError:  # a lone surrogate in a header (or an unparsable URL) cannot be what Plivo signed
        expected = []
    matched = False
    for mine, theirs in expected:  # no early exit: timing does not depend on which one matched
        for signature in theirs:
            matched |= hmac.compare_digest(mine.encode(), signature.encode("utf-8", "replace"))
    if not matched:
        raise WebhookError(403, "bad_signature", "no X-Plivo-Signature matches the request and PLIVO_AUTH_TOKEN")
