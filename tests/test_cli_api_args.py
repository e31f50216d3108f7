"""``send``, ``broadcast`` and ``subscribers`` with unusable settings, files or names.

Each ends with one ``textdesk <command>: error:`` line and an exit code, never a
traceback. The argument cases fail before any request; the names are sent to
the real API on loopback (the harness of test_api_cli.py).
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.cli import main
from tests.conftest import ROOT
from tests.test_api_harness import API_TOKEN, Api

pytest_plugins = ("tests.test_api_harness",)


def cli(*argv: str, env: dict[str, str] | None = None) -> tuple[int, str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("TEXTDESK_")}
    # Port 9 (discard) on loopback: nothing answers, so no case may get as far as a request.
    environ.update({"PYTHONPATH": str(ROOT), "TEXTDESK_API_URL": "http://127.0.0.1:9",
                    "TEXTDESK_API_TOKEN": API_TOKEN, **(env or {})})
    done = subprocess.run([sys.executable, "-m", "bot.cli", *argv], cwd=ROOT, env=environ,
                          stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=30)
    assert "Traceback" not in done.stderr, done.stderr
    return done.returncode, done.stderr


@pytest.mark.parametrize("url", ["127.0.0.1:8080", "http://[::1", "", "http://127.0.0.1:99999"])
def test_server_url_that_is_not_one(url: str) -> None:
    code, err = cli("send", "+15550001111", env={"TEXTDESK_API_URL": url})
    assert code == 2
    assert "textdesk send: error: --url (TEXTDESK_API_URL) should be the server's base URL" in err
    code, err = cli("subscribers", "list", "deals", "--url", url)
    assert (code, "--url (TEXTDESK_API_URL) should be" in err) == (2, True)


@pytest.mark.parametrize(("url", "why"), [
    ("http://127.0.0.1:9/é", "its path has 'é': write a character outside ASCII percent-encoded (%C3%A9)"),
    ("http://" + "a" * 70 + ".example:9", "its host is no valid host name (a part longer than 63 characters?)"),
    ("http://user:pw@127.0.0.1:9", "it holds a user name or password, which the commands never send (the "
                                   "token comes from TEXTDESK_API_TOKEN)"),
])  # fmt: skip
def test_server_url_that_urllib_cannot_send_to(url: str, why: str) -> None:
    # The first two raised a traceback inside urllib; the third "could not resolve" 'user'.
    code, err = cli("send", "+15550001111", "--url", url)
    assert (code, err) == (2, f"textdesk send: error: --url (TEXTDESK_API_URL) should be the server's base URL "
                              f"like http://127.0.0.1:8080, got '{url}': {why}\n")


@pytest.mark.parametrize("token", ["tökén-0123456789abcdef", "tab\t0123456789abcdef", "two words0123456789abc"])
def test_token_that_cannot_be_a_header(token: str) -> None:
    code, err = cli("send", "+15550001111", env={"TEXTDESK_API_TOKEN": token})
    assert code == 2
    assert "TEXTDESK_API_TOKEN should be one of the server's API tokens, in printable ASCII" in err
    assert token not in err  # a secret is not echoed


def test_token_from_a_file_keeps_working_with_its_newline() -> None:
    # Stripped like the server strips TEXTDESK_API_TOKENS: the command gets as far as the (absent) server.
    code, err = cli("send", "+15550001111", env={"TEXTDESK_API_TOKEN": API_TOKEN + "\r\n"})
    assert code == 1 and "cannot reach the textdesk server at http://127.0.0.1:9" in err


@pytest.mark.parametrize(("content", "message"), [
    ("number\n+1555000111\xe9\n".encode("latin-1"), "not UTF-8 text (bad byte at offset 18); save it as 'CSV UTF-8'"),
    ("number\n+15550001111\n".encode("utf-16"), "not UTF-8 text (bad byte at offset 0)"),
    (b"number\n" + b"1" * 200_000 + b"\n", "not a CSV file of phone numbers (field larger than field limit"),
], ids=["latin-1", "utf-16", "huge-cell"])  # ids: the test id goes into the child's environment
def test_csv_that_is_not_utf8_text(content: bytes, message: str, tmp_path: Path) -> None:
    sheet = tmp_path / "numbers.csv"
    sheet.write_bytes(content)
    code, err = cli("broadcast", str(sheet), "--text", "Sale today")
    assert code == 2 and f"textdesk broadcast: error: {sheet}: {message}" in err
    code, err = cli("subscribers", "add", "deals", "--csv", str(sheet), "--source", "paper form")
    assert code == 2 and f"textdesk subscribers: error: {sheet}: {message}" in err


@pytest.mark.parametrize(("name", "message"), [
    ("missing.csv", "no such file"),
    (".", "is a folder; give the CSV file"),
])  # fmt: skip
def test_csv_that_is_no_file(name: str, message: str, tmp_path: Path) -> None:
    # Python's own words: "[Errno 21] Is a directory: '.'".
    code, err = cli("broadcast", str(tmp_path / name), "--text", "Sale today")
    assert (code, err) == (2, f"textdesk broadcast: error: {tmp_path / name}: {message}\n")
    code, err = cli("subscribers", "add", "deals", "--csv", str(tmp_path / name), "--source", "paper form")
    assert (code, err) == (2, f"textdesk subscribers: error: {tmp_path / name}: {message}\n")


async def test_names_typed_by_hand_are_one_path_segment(
    api: Api, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("TEXTDESK_API_URL", str(api.client.make_url("")))
    monkeypatch.setenv("TEXTDESK_API_TOKEN", API_TOKEN)
    assert await asyncio.to_thread(main, ["subscribers", "list", "summer deals"]) == 1
    assert "invalid_field: 'audience' should be a name of 1 to 100 characters" in capsys.readouterr().err
    assert await asyncio.to_thread(main, ["subscribers", "list", "deals?limit=1"]) == 1
    assert 'starting with a letter or digit; got "deals?limit=1"' in capsys.readouterr().err
    assert await asyncio.to_thread(main, ["broadcast", "--status", "no such id"]) == 1
    assert "textdesk broadcast: error: not_found" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--audience", "deals", "--text", " "], "--text is empty"),
        (["--audience", "deals", "--state", ""], "--state is empty"),
        (["--audience", "", "--text", "hi"], "--audience is empty"),
        (["--audience", "deals", "--text", "hi", "--key", ""], "--key is empty"),
        (["--status", ""], "--status is empty"),
        (["--status", "bc_1", "--audience", "deals"], "--status follows an existing broadcast"),
    ],
)
def test_broadcast_arguments_that_would_be_dropped_or_ignored(argv: list[str], message: str) -> None:
    code, err = cli("broadcast", *argv)
    assert code == 2, err
    assert f"textdesk broadcast: error: {message}" in err


@pytest.mark.parametrize("interval", ["0", "-1", "nan", "soon"])
def test_broadcast_poll_interval_must_be_positive(interval: str) -> None:
    code, err = cli("broadcast", "--status", "bc_1", "--interval", interval)
    assert code == 2 and "--interval: should be seconds from 0 to 3600" in err, err
