"""``textdesk chat`` fed what terminals and files really produce: bad bytes, odd encodings.

The command runs as a subprocess on a tiny flow, with bytes on stdin, so the
decoding is Python's own, as in a terminal or a pipe; ``Simulator`` is driven
directly for what it must refuse.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.cli import main
from bot.clock import VirtualClock
from bot.flows import load_flows
from bot.simulator import CHANNEL, Simulator, choose_target
from bot.store import SQLiteStore
from bot.types import ConversationKey

ROOT = Path(__file__).resolve().parent.parent

SHOP = """\
flow: shop
default: true
start: menu
states:
  menu:
    say: "Hi 😀 reply 1"
    choices:
      - keywords: ["1"]
        go: done
  done:
    say: "Bye"
    final: true
"""


@pytest.fixture
def flows_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "flows"
    (folder / "media").mkdir(parents=True)
    (folder / "shop.yaml").write_text(SHOP, encoding="utf-8")
    return folder


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SQLiteStore]:
    store = SQLiteStore(tmp_path / "chat.db")
    await store.open()
    yield store
    await store.close()


def chat(flows: Path, typed: bytes, **env: str) -> subprocess.CompletedProcess[bytes]:
    environ = {**os.environ, "PYTHONPATH": str(ROOT), **env}
    environ.pop("NO_COLOR", None)
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", "chat", "--flows", str(flows)],
        input=typed, capture_output=True, cwd=ROOT, env=environ, timeout=60,
    )  # fmt: skip


@pytest.mark.parametrize("encoding", ["", "utf-8", "ascii"])
def test_bytes_that_are_not_text_are_refused_and_the_chat_goes_on(flows_dir: Path, encoding: str) -> None:
    # PYTHONIOENCODING picks how Python decodes stdin: leniently (the default
    # in a UTF-8 locale) or strictly (utf-8, or a terminal set to ASCII).
    done = chat(flows_dir, b"hi\n\xff\xfe bad\n1\n", PYTHONIOENCODING=encoding)
    err = done.stderr.decode("utf-8", "replace")
    assert done.returncode == 0, err
    assert "Traceback" not in err
    out = done.stdout.decode("utf-8", "replace").splitlines()
    refused = out.index(next(line for line in out if line.startswith("not sent:")))
    assert out[refused] == "not sent: this line is not text in the terminal's encoding (a phone could not send it)"
    assert out[refused + 1 :] == [
        "you: 1",
        "bot: Bye",
        "     [1 segment, GSM-7]",
        "     (state done | choice menu/choice 1 | score 100.0)",
    ]


async def test_simulator_refuses_a_line_with_undecodable_bytes(
    tmp_path: Path, flows_dir: Path, store: SQLiteStore
) -> None:
    flows = load_flows(flows_dir)
    sim = Simulator(flows, store, choose_target(flows), clock=VirtualClock())
    # How Python hands over bytes it could not decode (surrogateescape).
    assert await sim.send("\udcff\udcfe bad") == [
        "not sent: this line is not text in the terminal's encoding (a phone could not send it)"
    ]
    assert await store.messages(ConversationKey(CHANNEL, sim.customer, sim.business), 10) == []


@pytest.mark.parametrize("flag", ["--from", "--to"])
def test_numbers_with_digits_of_other_scripts_are_refused(
    flows_dir: Path, flag: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # Python's \d also matches Arabic-Indic digits; no carrier sends such a number.
    number = "+1٥٥٥٠٠٠١٢٣٤"
    assert main(["chat", "--flows", str(flows_dir), flag, number]) == 2
    assert capsys.readouterr().err == (
        f"textdesk chat: error: {flag} should be a phone number like +15550001234, got '{number}'\n"
    )
