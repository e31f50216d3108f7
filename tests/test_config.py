"""Configuration: flags, TEXTDESK_* twins, carrier secrets, and clear refusals."""

from __future__ import annotations

import argparse
import gc
import io
import json
import logging
import re
from pathlib import Path
from typing import Any

import pytest

from bot.config import ConfigError, add_serve_arguments, config_from_args
from tests.conftest import FLOWS


def parse(argv: list[str], env: dict[str, str]) -> object:
    parser = argparse.ArgumentParser()
    add_serve_arguments(parser, env)
    return config_from_args(parser.parse_args(argv), env)


def test_flags_win_over_environment_twins() -> None:
    env = {"TEXTDESK_PORT": "9000", "TEXTDESK_HOST": "0.0.0.0", "TWILIO_AUTH_TOKEN": "t"}
    config = parse(["--port", "9100"], env)
    assert (config.port, config.host, config.twilio_auth_token) == (9100, "0.0.0.0", "t")  # type: ignore[attr-defined]


def test_operational_settings_from_environment() -> None:
    env = {
        "TWILIO_AUTH_TOKEN": "t",
        "TEXTDESK_SEND_RATE": "2.5",
        "TEXTDESK_SEND_RATE_TELNYX": "10",
        "TEXTDESK_OUTBOX_MAX_AGE": "600",
        "TEXTDESK_FLOOD_BURST": "4",
        "TEXTDESK_FLOOD_WINDOW": "30",
        "TEXTDESK_MMS_PREFIXES_VONAGE_SMS": "none",
        "TEXTDESK_API_TOKENS": "a" * 20 + ", " + "b" * 20,
    }
    config = parse(["--mms-prefixes", "+1,+44", "--log-format", "json"], env)
    assert config.send_rates == {"*": 2.5, "telnyx": 10.0}  # type: ignore[attr-defined]
    assert config.outbox_max_age == 600  # type: ignore[attr-defined]
    assert (config.flood_burst, config.flood_window) == (4, 30.0)  # type: ignore[attr-defined]
    assert config.mms_prefixes == {"*": ("+1", "+44"), "vonage-sms": ()}  # type: ignore[attr-defined]
    assert config.api_tokens == ("a" * 20, "b" * 20)  # type: ignore[attr-defined]
    assert config.log_format == "json"  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("argv", "env", "message"),
    [
        (["--port", "http"], {"TWILIO_AUTH_TOKEN": "t"},
         "--port/TEXTDESK_PORT should be a number from 0 to 65535, got 'http'"),
        (["--public-url", "sms.example.com"], {"TWILIO_AUTH_TOKEN": "t"},
         "--public-url/TEXTDESK_PUBLIC_URL should be a base URL"),
        (["--public-url", "https://sms.example.com:99999"], {"TWILIO_AUTH_TOKEN": "t"},
         "--public-url/TEXTDESK_PUBLIC_URL should be"),
        (["--public-url", "https://sms.example.com:https"], {"TWILIO_AUTH_TOKEN": "t"},
         "--public-url/TEXTDESK_PUBLIC_URL should be"),
        (["--public-url", "https://sms example.com"], {"TWILIO_AUTH_TOKEN": "t"},
         "--public-url/TEXTDESK_PUBLIC_URL should be"),
        (["--public-url", "https://:8443"], {"TWILIO_AUTH_TOKEN": "t"}, "--public-url/TEXTDESK_PUBLIC_URL should be"),
        (["--public-url", "http://[::1"], {"TWILIO_AUTH_TOKEN": "t"}, "--public-url/TEXTDESK_PUBLIC_URL should be"),
        # A carrier calls (and signs) the ASCII form: every webhook would fail its signature.
        (["--public-url", "https://sms.example.com/é"], {"TWILIO_AUTH_TOKEN": "t"},
         "--public-url/TEXTDESK_PUBLIC_URL should be .* as the carrier calls it: 'é' percent-encoded \\(%C3%A9\\)"),
        (["--public-url", "https://bücher.example"], {"TWILIO_AUTH_TOKEN": "t"},
         "as the carrier calls it: the host in its ASCII form \\(xn--bcher-kva.example\\)"),
        (["--mms-prefixes", "1"], {"TWILIO_AUTH_TOKEN": "t"}, "should list number prefixes like +1,+44"),
        (["--mms-prefixes", "+44,+¹"], {"TWILIO_AUTH_TOKEN": "t"}, "number prefixes like .*, got '+¹'"),
        ([], {"TWILIO_AUTH_TOKEN": "t", "TEXTDESK_MMS_PREFIXES": ""}, "or 'none' for no MMS; got nothing"),
        ([], {"TWILIO_AUTH_TOKEN": "t", "TEXTDESK_MMS_PREFIXES_SINCH": " , "}, "or 'none' for no MMS; got nothing"),
        (["--log-level", "LOUD"], {"TWILIO_AUTH_TOKEN": "t"}, "--log-level/TEXTDESK_LOG_LEVEL should be DEBUG"),
        (["--log-format", "xml"], {"TWILIO_AUTH_TOKEN": "t"},
         "--log-format/TEXTDESK_LOG_FORMAT should be text or json"),
        (["--reload-interval", "-1"], {"TWILIO_AUTH_TOKEN": "t"},
         "--reload-interval/TEXTDESK_RELOAD_INTERVAL should be seconds"),
        ([], {"TWILIO_AUTH_TOKEN": "t", "TEXTDESK_SEND_RATE": "fast"}, "TEXTDESK_SEND_RATE should be a number"),
        ([], {"TWILIO_AUTH_TOKEN": "t", "TEXTDESK_FLOOD_BURST": "0"}, "TEXTDESK_FLOOD_BURST should be a number"),
        ([], {"TWILIO_AUTH_TOKEN": "t", "TEXTDESK_API_TOKENS": "short"}, "at least 16 characters"),
        ([], {"TWILIO_AUTH_TOKEN": "t", "TEXTDESK_API_TOKENS": "tökentökentökentöken"}, "printable ASCII"),
        ([], {"TWILIO_AUTH_TOKEN": "t", "TEXTDESK_API_TOKENS": "token token token token"}, "without spaces"),
        (["--reload-interval", "1e-9"], {"TWILIO_AUTH_TOKEN": "t"}, "from 0.1 to 3600, or 0"),
        (["--reload-interval", "nan"], {"TWILIO_AUTH_TOKEN": "t"}, "from 0.1 to 3600, or 0"),
        ([], {"TWILIO_AUTH_TOKEN": "t", "TEXTDESK_HOST": ""}, "--host/TEXTDESK_HOST should be an address to listen on"),
        ([], {"TWILIO_AUTH_TOKEN": "t", "TEXTDESK_DB": ""},
         "--db/TEXTDESK_DB should be the path of a SQLite database file"),
        (["--db", str(FLOWS)], {"TWILIO_AUTH_TOKEN": "t"}, "is a folder"),
        ([], {"TWILIO_AUTH_TOKEN": "t", "TEXTDESK_FLOWS": ""},
         "--flows/TEXTDESK_FLOWS should be the folder of flow files"),
        ([], {"TWILIO_AUTH_TOKEN": "t", "TEXTDESK_FLOOD_BURST": "2.7"}, "FLOOD_BURST should be a whole number"),
        ([], {"TWILIO_AUTH_TOKEN": "t", "TEXTDESK_SEND_RATE_TWILLIO": "5"}, "RATE_TWILLIO names no carrier"),
        ([], {"TWILIO_AUTH_TOKEN": "t", "TEXTDESK_MMS_PREFIXES_": "+1"}, "expected one of .*_VONAGE_SMS"),
        ([], {"TEXTDESK_INSECURE_DEV": "maybe"}, "TEXTDESK_INSECURE_DEV should be 1 or 0"),
        ([], {"TWILIO_AUTH_TOKEN": "t", "TEXTDESK_ACCESS_LOG": "2"}, "TEXTDESK_ACCESS_LOG should be 1 or 0"),
    ],
)
def test_bad_values_are_refused_with_what_was_expected(argv: list[str], env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message.replace("+", r"\+").replace("?", r"\?")):
        parse(argv, env)


@pytest.mark.parametrize("url", ["https://sms.example.com", "http://127.0.0.1:8080/", "https://[::1]:8443/textdesk",
                                 " https://sms.example.com/ "])
def test_public_urls_that_are_fine(url: str) -> None:
    config = parse(["--public-url", url], {"TWILIO_AUTH_TOKEN": "t"})
    assert config.public_url == url.strip().rstrip("/")  # type: ignore[attr-defined]


def test_no_twilio_token_is_not_a_config_error() -> None:
    # Another carrier may be the one set up; serve refuses only when none is
    # (tests/test_cli_serve_start.py).
    config = parse([], {})
    assert not config.insecure_dev and config.twilio_auth_token == ""  # type: ignore[attr-defined]


def test_insecure_dev_allows_no_token() -> None:
    config = parse(["--insecure-dev"], {})
    assert config.insecure_dev and config.twilio_auth_token == ""  # type: ignore[attr-defined]


@pytest.mark.parametrize(("value", "on"), [("TRUE", True), (" Yes ", True), ("on", True), ("1", True),
                                           ("0", False), ("False", False), ("off", False), ("", False)])
def test_switches_from_the_environment_in_any_case(value: str, on: bool) -> None:
    env = {"TWILIO_AUTH_TOKEN": "t", "TEXTDESK_INSECURE_DEV": value, "TEXTDESK_ACCESS_LOG": value}
    config = parse([], env)
    assert (config.insecure_dev, config.access_log) == (on, on)  # type: ignore[attr-defined]
    assert parse(["--insecure-dev", "--access-log"], env).access_log is True  # type: ignore[attr-defined]


def test_access_log_is_off_unless_asked_for() -> None:
    assert parse([], {"TWILIO_AUTH_TOKEN": "t"}).access_log is False  # type: ignore[attr-defined]
    assert parse(["--access-log"], {"TWILIO_AUTH_TOKEN": "t"}).access_log is True  # type: ignore[attr-defined]
    env = {"TWILIO_AUTH_TOKEN": "t", "TEXTDESK_ACCESS_LOG": "1"}
    assert parse([], env).access_log is True  # type: ignore[attr-defined]


@pytest.mark.parametrize(("argv", "logger"), [([], None), (["--access-log"], "aiohttp.access")])
def test_serve_passes_the_access_log_setting_to_aiohttp(
    argv: list[str], logger: str | None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from aiohttp import web

    from bot.commands import serve

    for name in ("_srcfile", "logThreads", "logProcesses", "logMultiprocessing"):
        monkeypatch.setattr(logging, name, getattr(logging, name))  # restored after the test
    seen: dict[str, Any] = {}
    monkeypatch.setattr(web, "run_app", lambda app, **kwargs: seen.update(kwargs))
    parser = argparse.ArgumentParser()
    env = {"TWILIO_AUTH_TOKEN": "t"}
    add_serve_arguments(parser, env)
    args = parser.parse_args(["--flows", str(FLOWS), "--db", str(tmp_path / "t.db"), *argv])
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", "t")
    try:
        assert serve.run(args) == 0
        assert gc.get_freeze_count() > 0  # serve froze its startup objects (bot/gcpolicy.py)
    finally:
        gc.unfreeze()  # this is pytest's process, not a server's
    assert (seen["access_log"].name if seen["access_log"] else None) == logger


@pytest.mark.parametrize("log_format", ["text", "json"])
def test_serve_logging_lines_keep_their_fields(log_format: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The per-message line reads the same with the record shortcuts serve sets up."""
    from bot.commands.serve import configure_logging
    from bot.config import Config

    for name in ("_srcfile", "logThreads", "logProcesses", "logMultiprocessing"):
        monkeypatch.setattr(logging, name, getattr(logging, name))
    root = logging.getLogger()
    monkeypatch.setattr(root, "handlers", [])  # basicConfig configures only a root without handlers
    monkeypatch.setattr(root, "level", root.level)
    stream = io.StringIO()
    configure_logging(Config(log_format=log_format), stream)
    event = {"carrier": "twilio", "customer": "+15******34", "score": 100.0}
    logging.getLogger("textdesk.conversation").info("twilio %s from %s", "SM1", "+15******34", extra={"event": event})
    line = stream.getvalue().strip()
    if log_format == "json":
        data = json.loads(line)
        assert data["message"] == "twilio SM1 from +15******34"
        assert (data["level"], data["logger"], data["carrier"], data["score"]) == (
            "INFO", "textdesk.conversation", "twilio", 100.0)
    else:
        assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} INFO textdesk.conversation: "
                            r"twilio SM1 from \+15\*{6}34", line), line
