"""Server configuration: command-line flags, each with a ``TEXTDESK_*`` twin.

Precedence: flag > environment > default. Carrier secrets come only from the
environment, under the carriers' own names (``TWILIO_AUTH_TOKEN``), so they
never show up in ``ps`` output or shell history.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, urlsplit

from bot.commands.paths import PathError, given_file

__all__ = [
    "Config",
    "ConfigError",
    "add_serve_arguments",
    "config_from_args",
    "database_path",
    "is_base_url",
    "prefixes_setting",
]


class ConfigError(Exception):
    """A configuration value is wrong; the message says which and what is expected."""


@dataclass(frozen=True, slots=True)
class Config:
    host: str = "127.0.0.1"
    port: int = 8080
    flows_dir: Path = Path("flows")
    db_path: Path = Path("textdesk.db")
    public_url: str = ""  # the base URL carriers call, e.g. https://sms.example.com
    twilio_auth_token: str = ""
    insecure_dev: bool = False
    max_body_bytes: int = 64 * 1024
    log_level: str = "INFO"
    log_format: str = "text"  # "text" or "json" (JSON lines)
    access_log: bool = False  # aiohttp's line per HTTP request, besides our line per message
    # Which customers can receive MMS, by channel ("*" for all): number prefixes.
    # Elsewhere media go as links in the text. US/Canada by default.
    mms_prefixes: dict[str, tuple[str, ...]] = field(default_factory=lambda: {"*": ("+1",)})
    # Outbox pacing, segments per second per sender number, by channel ("*": all).
    # 1/s is the US long-code rate (carriers.md); raise it for toll-free or short codes.
    send_rates: dict[str, float] = field(default_factory=lambda: {"*": 1.0})
    outbox_max_age: float = 3600.0  # seconds an outbox message is retried before it is marked failed
    outbox_worker: bool = True  # tests drive the outbox by hand with a virtual clock
    # Flood control: at most flood_burst messages per flood_window seconds per
    # conversation reach the flow (STOP and HELP always do).
    flood_burst: int = 10
    flood_window: float = 10.0
    reload_interval: float = 1.0  # seconds between checks for edited flows; 0: no hot reload
    # Bearer tokens of the HTTP API (TEXTDESK_API_TOKENS, comma-separated); none: /api is not mounted.
    api_tokens: tuple[str, ...] = ()

    @property
    def media_dir(self) -> Path:
        return self.flows_dir / "media"


def add_serve_arguments(parser: argparse.ArgumentParser, env: Mapping[str, str]) -> None:
    def default(name: str, fallback: str) -> str:
        return env.get(f"TEXTDESK_{name}", fallback)

    parser.add_argument("--host", default=default("HOST", "127.0.0.1"), help="address to listen on [TEXTDESK_HOST]")
    parser.add_argument("--port", default=default("PORT", "8080"), help="port to listen on [TEXTDESK_PORT]")
    parser.add_argument("--flows", default=default("FLOWS", "flows"), help="folder of flow files [TEXTDESK_FLOWS]")
    parser.add_argument("--db", default=default("DB", "textdesk.db"), help="SQLite database file [TEXTDESK_DB]")
    parser.add_argument(
        "--public-url",
        default=default("PUBLIC_URL", ""),
        help="base URL the carrier calls, used for signatures and media links [TEXTDESK_PUBLIC_URL]",
    )
    parser.add_argument(
        "--insecure-dev",
        action="store_true",
        default=default("INSECURE_DEV", ""),  # checked by config_from_args (_switch)
        help="mount Twilio's webhook without TWILIO_AUTH_TOKEN: its requests are NOT verified (local development only) "
        "[TEXTDESK_INSECURE_DEV=1]",
    )
    parser.add_argument(
        "--mms-prefixes",
        default=default("MMS_PREFIXES", "+1"),
        help="comma-separated number prefixes that receive MMS (others get media as links), or 'none'; "
        "per carrier: TEXTDESK_MMS_PREFIXES_<CARRIER> [TEXTDESK_MMS_PREFIXES]",
    )
    parser.add_argument(
        "--reload-interval",
        default=default("RELOAD_INTERVAL", "1"),
        help="seconds between checks for edited flow files; 0 turns hot reload off [TEXTDESK_RELOAD_INTERVAL]",
    )
    parser.add_argument(
        "--log-format",
        default=default("LOG_FORMAT", "text"),
        help="text, or json for JSON lines [TEXTDESK_LOG_FORMAT]",
    )
    parser.add_argument(
        "--log-level", default=default("LOG_LEVEL", "INFO"), help="DEBUG, INFO, WARNING [TEXTDESK_LOG_LEVEL]"
    )
    parser.add_argument(
        "--access-log",
        action="store_true",
        default=default("ACCESS_LOG", ""),  # checked by config_from_args (_switch)
        help="also log every HTTP request (aiohttp's access log, at INFO) [TEXTDESK_ACCESS_LOG=1]",
    )


def config_from_args(args: argparse.Namespace, env: Mapping[str, str] | None = None) -> Config:
    """Validate parsed flags into a ``Config``; raise ``ConfigError`` on bad values."""
    environ = os.environ if env is None else env
    host = str(args.host).strip()
    if not host:
        # aiohttp reads an empty host as every interface: an empty TEXTDESK_HOST=
        # must not quietly turn 127.0.0.1 into 0.0.0.0.
        raise ConfigError(f"{_named('--host')} should be an address to listen on, like 127.0.0.1 "
                          f"(or 0.0.0.0 for all), got '{args.host}'")
    try:
        port = int(str(args.port))
    except ValueError:
        port = -1
    if not 0 <= port <= 65535:
        raise ConfigError(f"{_named('--port')} should be a number from 0 to 65535, got '{args.port}'")
    public_url = str(args.public_url).strip().rstrip("/")
    if public_url and not is_base_url(public_url):
        raise ConfigError(f"{_named('--public-url')} should be a base URL like https://sms.example.com"
                          f"{_ascii_hint(public_url)}, got '{args.public_url}'")
    log_format = str(args.log_format).lower()
    if log_format not in ("text", "json"):
        raise ConfigError(f"{_named('--log-format')} should be text or json, got '{args.log_format}'")
    try:
        reload_interval = float(str(args.reload_interval))
    except ValueError:
        reload_interval = -1.0
    # Under a tenth of a second the reloader would stat the flow files almost
    # without pause, on the event loop's core, for no editor's benefit.
    if not (reload_interval == 0 or 0.1 <= reload_interval <= 3600):
        raise ConfigError(f"{_named('--reload-interval')} should be seconds from 0.1 to 3600, or 0 for no "
                          f"hot reload, got '{args.reload_interval}'")
    level = str(args.log_level).upper()
    if level not in ("DEBUG", "INFO", "WARNING", "ERROR"):
        raise ConfigError(f"{_named('--log-level')} should be DEBUG, INFO, WARNING or ERROR, got '{args.log_level}'")
    insecure_dev = _switch(args.insecure_dev, "TEXTDESK_INSECURE_DEV")
    access_log = _switch(args.access_log, "TEXTDESK_ACCESS_LOG")
    # Which carriers are set up (each by its own webhook secret) is decided
    # where they are built (bot.carriers.registry); ``serve`` refuses to start
    # with none. A Telnyx-only line needs no Twilio token.
    token = environ.get("TWILIO_AUTH_TOKEN", "").strip()
    api_tokens = _api_tokens(environ.get("TEXTDESK_API_TOKENS", ""))
    rates = {"*": _number(environ.get("TEXTDESK_SEND_RATE", "1"), "TEXTDESK_SEND_RATE", 0.01, 10_000)}
    for name, value in environ.items():
        if name.startswith("TEXTDESK_SEND_RATE_"):
            rates[_carrier(name, "TEXTDESK_SEND_RATE_")] = _number(value, name, 0.01, 10_000)
    max_age = _number(environ.get("TEXTDESK_OUTBOX_MAX_AGE", "3600"), "TEXTDESK_OUTBOX_MAX_AGE", 1, 7 * 86400)
    flood_burst = _whole(environ.get("TEXTDESK_FLOOD_BURST", "10"), "TEXTDESK_FLOOD_BURST", 1, 10_000)
    flood_window = _number(environ.get("TEXTDESK_FLOOD_WINDOW", "10"), "TEXTDESK_FLOOD_WINDOW", 0.1, 86_400)
    mms: dict[str, tuple[str, ...]] = {"*": prefixes_setting(str(args.mms_prefixes), _named("--mms-prefixes"))}
    for name, value in environ.items():
        if name.startswith("TEXTDESK_MMS_PREFIXES_"):
            mms[_carrier(name, "TEXTDESK_MMS_PREFIXES_")] = prefixes_setting(value, name)
    return Config(
        host=host,
        port=port,
        flows_dir=_flows_path(str(args.flows)),
        db_path=database_path(str(args.db), _named("--db")),
        public_url=public_url,
        twilio_auth_token=token,
        insecure_dev=insecure_dev,
        log_level=level,
        log_format=log_format,
        access_log=access_log,
        mms_prefixes=mms,
        reload_interval=reload_interval,
        api_tokens=api_tokens,
        send_rates=rates,
        outbox_max_age=max_age,
        flood_burst=flood_burst,
        flood_window=flood_window,
    )


def _named(flag: str) -> str:
    """``--port/TEXTDESK_PORT``: a value may come from either, and the message should lead to it."""
    return f"{flag}/TEXTDESK_{flag.removeprefix('--').upper().replace('-', '_')}"


def database_path(value: str, what: str = "--db") -> Path:
    """The SQLite file a flag names; refused before anything opens it.

    An empty value would be the current folder, and SQLite's refusal of a
    folder ("unable to open database file") names neither the flag nor the cause.
    """
    try:
        return given_file(value, what, "a SQLite database file")
    except PathError as exc:
        raise ConfigError(str(exc)) from None


def _flows_path(value: str) -> Path:
    # An empty TEXTDESK_FLOWS= would quietly mean the current folder.
    if not value.strip():
        raise ConfigError(f"{_named('--flows')} should be the folder of flow files, got '{value}'")
    return Path(value)


def is_base_url(url: str) -> bool:
    """http(s), a host, no query or fragment; a port in range and no spaces.

    Signatures are checked against this URL and media links built from it, so
    one the carrier could never call would only show up as refused webhooks.
    """
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port out of range or not a number
    except ValueError:  # also an unclosed IPv6 bracket: http://[::1
        return False
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
        return False
    # Carriers call, and sign, the ASCII form (a punycode host, a percent-encoded
    # path): a URL written otherwise would fail every webhook's signature.
    return url.isascii() and not any(ch.isspace() or not ch.isprintable() for ch in url)


def _ascii_hint(url: str) -> str:
    """How to write a base URL outside ASCII as the carrier calls it ("" when it is ASCII)."""
    if url.isascii():
        return ""
    host = urlsplit(url).hostname or ""
    if not host.isascii():
        try:
            return f" as the carrier calls it: the host in its ASCII form ({host.encode('idna').decode()})"
        except UnicodeError:
            return " as the carrier calls it: the host in its ASCII (punycode) form"
    odd = next(ch for ch in url if not ch.isascii())
    return f" as the carrier calls it: '{odd}' percent-encoded ({quote(odd)})"


def _switch(value: str | bool, name: str) -> bool:
    """An on/off setting: ``True`` from its flag, else its environment twin's text.

    Any case of 1/true/yes/on and 0/false/no/off; anything else is refused, so
    ``TEXTDESK_INSECURE_DEV=TRUE`` is not quietly read as off.
    """
    if isinstance(value, bool):
        return value
    text = value.strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("", "0", "false", "no", "off"):
        return False
    raise ConfigError(f"{name} should be 1 or 0 (or true/false, yes/no, on/off), got '{value}'")


def _carrier(name: str, prefix: str) -> str:
    """The carrier a per-carrier variable names (``..._VONAGE_SMS`` -> ``vonage-sms``).

    A misspelt carrier (``TEXTDESK_SEND_RATE_TWILLIO``) would otherwise be a
    setting that silently applies to nothing.
    """
    channel = name.removeprefix(prefix).lower().replace("_", "-")
    names = _carrier_names()
    if channel not in names:
        endings = ", ".join(prefix + n.upper().replace("-", "_") for n in names)
        raise ConfigError(f"{name} names no carrier; expected one of {endings}")
    return channel


def _carrier_names() -> tuple[str, ...]:
    """Every carrier's channel name, as bot.carriers.registry would mount them."""
    from bot.carriers.registry import carrier_names  # imported here: only the server needs carriers

    return carrier_names()


def _number(value: str, what: str, low: float, high: float) -> float:
    try:
        number = float(value)
    except ValueError:
        number = low - 1
    if not low <= number <= high:
        raise ConfigError(f"{what} should be a number from {low:g} to {high:g}, got '{value}'")
    return number


def _whole(value: str, what: str, low: int, high: int) -> int:
    """A count: 2.7 messages is refused rather than quietly cut to 2."""
    number = _number(value, what, low, high)
    if not number.is_integer():
        raise ConfigError(f"{what} should be a whole number from {low} to {high}, got '{value}'")
    return int(number)


def _api_tokens(value: str) -> tuple[str, ...]:
    """API tokens come from the environment only, like carrier secrets: never in ``ps`` output."""
    tokens = tuple(t.strip() for t in value.split(",") if t.strip())
    for token in tokens:
        # Header values travel as bytes: a token beyond printable ASCII is encoded one
        # way by a client and decoded another by aiohttp, so it would never match.
        if not (token.isascii() and token.isprintable()) or " " in token:
            raise ConfigError("each token in TEXTDESK_API_TOKENS should be printable ASCII without spaces "
                              "(e.g. from: python3 -c 'import secrets; print(secrets.token_urlsafe(32))')")
        if len(token) < 16:
            raise ConfigError("each token in TEXTDESK_API_TOKENS should be at least 16 characters "
                              "(e.g. from: python3 -c 'import secrets; print(secrets.token_urlsafe(32))')")
    return tokens


def prefixes_setting(value: str, what: str) -> tuple[str, ...]:
    """The MMS prefixes ``value`` lists (``()`` for ``none``); ``what`` names the setting in errors.

    Public because ``textdesk chat`` reads ``--mms-prefixes`` by serve's own rule.
    """
    if value.strip().lower() == "none":
        return ()
    prefixes = tuple(p.strip() for p in value.split(",") if p.strip())
    if not prefixes:
        # Empty would mean no MMS for anyone; that is "none", said on purpose.
        raise ConfigError(f"{what} should list number prefixes like +1,+44, or 'none' for no MMS; got nothing")
    for prefix in prefixes:
        # isdigit() alone takes "+¹" or Arabic-Indic digits, which no number starts with.
        if not (prefix.startswith("+") and prefix[1:].isascii() and prefix[1:].isdigit()):
            raise ConfigError(f"{what} should list number prefixes like +1,+44 (or 'none'), got '{prefix}'")
    return prefixes
