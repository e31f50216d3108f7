"""Twilio webhook authenticity: the ``X-Twilio-Signature`` header.

Algorithm per the carrier reference (carriers.md §1.2): Base64(HMAC-SHA1(auth token, url + params)),
where ``params`` is every POST parameter name in sorted order, each followed by its value; a repeated
name contributes each of its de-duplicated, sorted values as ``name + value``. For JSON webhooks Twilio
instead puts ``bodySHA256`` (hex SHA-256 of the raw body) in the URL's query string and signs the URL
alone, so the body is authenticated through that hash.

This module is pure (no I/O, stdlib only) so the aiohttp handler can stay thin and the algorithm can be
tested against the published vectors and the official SDK.

Note for callers: the signed string does not delimit names from values (``a=bc`` and ``ab=c`` both
contribute ``abc``), so a valid signature proves "Twilio sent parameters that serialise to this
string", not an exact parameter layout. That is a property of Twilio's scheme, not of this code.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
from collections.abc import Iterable, Mapping
from urllib.parse import parse_qs

__all__ = ["compute_signature", "url_variants", "verify_signature"]

# §1.2 point 4: Twilio's back end is inconsistent about including the default port when it signs,
# so a verifier must try the URL with the scheme's default port spelled out.
_DEFAULT_PORTS: dict[str, str] = {"https": "443", "http": "80"}

# §1.2 point 5: query parameter Twilio adds to JSON webhooks carrying the body's SHA-256 hex digest.
_BODY_HASH_PARAM = "bodySHA256"

_SCHEME_FIRST = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
_SCHEME_REST = _SCHEME_FIRST | frozenset("0123456789+-.")
_ASCII_DIGITS = frozenset("0123456789")


def _params_suffix(params: Iterable[tuple[str, str]] | None) -> str:
    """Serialise POST params the way Twilio appends them to the URL before signing."""
    if isinstance(params, Mapping):
        # Iterating a mapping yields bare keys; unpacking a two-character key into (name, value)
        # would silently sign garbage, and a MultiDict would lose its repeated values if we took
        # .items() on the caller's behalf without them noticing. Make the caller be explicit.
        raise TypeError(
            "params must be an iterable of (name, value) pairs, e.g. list(multidict.items())"
        )
    # Names in sorted order, each name's values de-duplicated (Twilio de-duplicates repeated values
    # of one name before signing) and sorted: exactly the order of the distinct (name, value) pairs
    # sorted as tuples, which one C-level sort gives without grouping per name (this runs on every
    # webhook). Plain str sorting is code-point order, which equals the byte-wise order of the UTF-8
    # encoding Twilio sorts by (UTF-8 preserves code-point order).
    distinct = {(name, value) for name, value in params or ()}
    return "".join([name + value for name, value in sorted(distinct)])


@functools.lru_cache(maxsize=16)
def _keyed(key: bytes) -> hmac.HMAC:
    """An HMAC-SHA1 already keyed with ``key``: each signature copies it (one per auth token)."""
    return hmac.new(key, digestmod=hashlib.sha1)


def _sign(key: bytes, message: str) -> str:
    # Not hmac.digest(): CPython's one-shot HMAC releases the GIL on every call,
    # and under load aiosqlite's thread then takes it and the event loop waits
    # for it back (6% of the server's samples in bench/webhook.py's profile).
    # A keyed object's copy and update keep the GIL for messages under 2 KiB,
    # and skip the keying: the same HMAC, cheaper.
    mac = _keyed(key).copy()
    mac.update(message.encode("utf-8"))
    return base64.b64encode(mac.digest()).decode("ascii")


def compute_signature(auth_token: str, url: str, params: Iterable[tuple[str, str]] | None) -> str:
    """Return the ``X-Twilio-Signature`` value Twilio would send for this URL and POST params.

    ``url`` is signed exactly as given (query string included, no normalisation), and ``params``
    are the form-body pairs only; query-string parameters are already part of ``url``. Pass
    ``None`` or an empty iterable for GET requests and JSON bodies.
    """
    return _sign(auth_token.encode("utf-8"), url + _params_suffix(params))


def _split_authority(url: str) -> tuple[str, str, str] | None:
    """Split ``url`` into (scheme, authority, rest) by plain string slicing.

    Done by hand rather than with urlsplit/urlunsplit because the signature covers the exact
    string: re-serialising would drop things like an empty ``?`` and produce variants Twilio
    never signed. Returns None when there is no ``scheme://authority`` prefix.
    """
    scheme, sep, after = url.partition("://")
    if not sep or not scheme or scheme[0] not in _SCHEME_FIRST:
        return None
    if not set(scheme) <= _SCHEME_REST:
        return None
    end = len(after)
    for delimiter in "/?#":
        index = after.find(delimiter)
        if index != -1:
            end = min(end, index)
    return scheme, after[:end], after[end:]


def url_variants(url: str) -> list[str]:
    """Return the URLs a Twilio signature for ``url`` may have been computed over.

    In order, without duplicates: the URL as given, the URL with any port removed, and the URL
    with the scheme's default port added (an explicit port, default or not, is kept as is in
    that form). Only the port changes; the rest of the string is untouched. A URL whose
    authority cannot be parsed unambiguously (no scheme, non-numeric port, unclosed IPv6
    bracket) yields only itself, since guessing would just widen what we accept.
    """
    parts = _split_authority(url)
    if parts is None:
        return [url]
    scheme, authority, rest = parts
    userinfo, at, hostport = authority.rpartition("@")
    prefix = f"{scheme}://{userinfo}{at}"

    if hostport.startswith("["):
        # IPv6 literal: its colons are not port separators.
        close = hostport.find("]")
        if close == -1:
            return [url]
        host, port_part = hostport[: close + 1], hostport[close + 1 :]
        if port_part and not port_part.startswith(":"):
            return [url]
        port = port_part[1:]
    else:
        host, _, port = hostport.partition(":")
    if not set(port) <= _ASCII_DIGITS:
        # Also rejects a second colon in a non-bracketed host, which no valid URL has.
        return [url]

    without_port = f"{prefix}{host}{rest}"
    if port:
        with_port = url
    else:
        default = _DEFAULT_PORTS.get(scheme.lower())
        # Unknown scheme: we do not know which port Twilio would add, so offer none.
        with_port = f"{prefix}{host}:{default}{rest}" if default else url

    variants: list[str] = []
    for candidate in (url, without_port, with_port):
        if candidate not in variants:
            variants.append(candidate)
    return variants


# A server is called at one or a few URLs, so the variants of each are worked out once. Bounded:
# the query string is the caller's to choose, and a stream of distinct URLs only evicts.
@functools.lru_cache(maxsize=64)
def _cached_url_variants(url: str) -> tuple[str, ...]:
    return tuple(url_variants(url))


def _query_values(url: str, name: str) -> list[str] | None:
    """Values of query parameter ``name`` in ``url``, or None if it is absent."""
    query = url.partition("#")[0].partition("?")[2]
    if not query:
        return None  # what parse_qs("") gives, without parsing (the usual webhook URL has no query)
    # keep_blank_values so "bodySHA256=" counts as present (and then fails), rather than
    # silently switching to the form-params path.
    return parse_qs(query, keep_blank_values=True).get(name)


def verify_signature(
    auth_token: str,
    url: str,
    params: Iterable[tuple[str, str]] | None,
    signature: str,
    body: bytes | None = None,
) -> bool:
    """Return True if ``signature`` is a valid ``X-Twilio-Signature`` for this request.

    ``url`` must be the public URL Twilio requested (rebuild it behind a proxy), ``params`` the
    form-body pairs, and ``body`` the raw request body, needed only for JSON webhooks (URL query
    contains ``bodySHA256``): then ``params`` are ignored and the body's SHA-256 hex must match.
    Fails closed: an empty token or signature, a missing body, or malformed input gives False.
    """
    if not auth_token or not signature:
        return False
    try:
        body_hashes = _query_values(url, _BODY_HASH_PARAM)
        if body_hashes is None:
            body_ok = True
            suffix = _params_suffix(params)
        else:
            # Twilio adds exactly one hash; anything else is not a request it produced.
            if body is None or len(body_hashes) != 1:
                return False
            actual_hash = hashlib.sha256(body).hexdigest()
            # Bytes, not str: compare_digest raises TypeError on non-ASCII str, and the URL
            # value is attacker-controlled.
            body_ok = hmac.compare_digest(
                actual_hash.encode("ascii"), body_hashes[0].encode("utf-8")
            )
            # The JSON body is covered by the hash, so Twilio signs the URL alone.
            suffix = ""

        key = auth_token.encode("utf-8")
        presented = signature.encode("utf-8")
        signature_ok = False
        for candidate in _cached_url_variants(url):
            # Stop at the first match, as Twilio's SDK does: each comparison is constant-time,
            # and which variant matched is not secret (a forged signature matches none, so it
            # always costs every variant). The URL as given comes first: it is what Twilio signs
            # for a URL that spells out its port, so a valid request costs one HMAC, not three.
            expected = _sign(key, candidate + suffix).encode("ascii")
            if hmac.compare_digest(expected, presented):
                signature_ok = True
                break
    except UnicodeEncodeError:
        # Lone surrogates in the URL, params or header cannot be what Twilio signed.
        return False
    return body_ok and signature_ok
