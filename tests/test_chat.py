"""``textdesk chat``: the real command through a pipe, and ``Simulator`` in memory.

The pipe test runs ``python -m bot.cli chat`` as a subprocess on the bundled
flows and checks the screen line by line, as a user would read it. The rest
drives ``Simulator`` (and ``bot.cli.main`` in-process) against a real SQLite
file and real flows; tiny flows written in the test cover what the retail flow
does not (UCS-2 replies, several flows, a broken file).
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.cli import main
from bot.clock import VirtualClock
from bot.flows import FlowSet, load_flows
from bot.simulator import CHANNEL, Simulator, Target, TargetError, choose_target
from bot.store import SQLiteStore
from bot.types import ConversationKey

ROOT = Path(__file__).resolve().parent.parent
FLOWS = ROOT / "flows"
BUSINESS = "+15555550100"
CUSTOMER = "+15550000000"
DIM, RESET = "\x1b[2m", "\x1b[0m"

SCRIPT = [
    "hi", "4", "1", "/state", "/vars", "3", "MENU", "3", "AC-123456", "/vars", "/nope",
    "STOP", "hi", "/state", "/reset", "hi", "/quit", "never read",
]  # fmt: skip

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
    media: [https://example.com/a.png]
    final: true
"""

VIP = """\
flow: vip
numbers: ["+15555550199"]
start: hello
states:
  hello:
    say: "VIP line"
    final: true
"""


@pytest.fixture(scope="module")
def retail() -> FlowSet:
    return load_flows(FLOWS)


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two tiny flows: quick to lint, so in-process runs of the command stay fast."""
    return write_flows(tmp_path_factory.mktemp("small") / "flows", shop=SHOP, vip=VIP)


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SQLiteStore]:
    store = SQLiteStore(tmp_path / "chat.db")
    await store.open()
    yield store
    await store.close()


def simulator(flows: FlowSet, store: SQLiteStore, customer: str = CUSTOMER, color: bool = False) -> Simulator:
    return Simulator(
        flows, store, choose_target(flows), customer, media_base="file:///m", color=color, clock=VirtualClock()
    )


def turns(output: str) -> list[tuple[str, list[str]]]:
    """The screen as (what was typed, the lines printed after it), in order."""
    out: list[tuple[str, list[str]]] = []
    for line in output.splitlines():
        if line.startswith("you: "):
            out.append((line.removeprefix("you: "), []))
        elif out:
            out[-1][1].append(line)
    return out


def write_flows(folder: Path, **files: str) -> Path:
    (folder / "media").mkdir(parents=True)
    for name, text in files.items():
        (folder / f"{name}.yaml").write_text(text, encoding="utf-8")
    return folder


# -- the real command through a pipe ------------------------------------------


def test_scripted_conversation_through_a_pipe(retail: FlowSet) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("NO_COLOR", None)  # plain output must come from the pipe alone
    done = subprocess.run(
        [sys.executable, "-m", "bot.cli", "chat", "--flows", str(FLOWS)],
        input="\n".join(SCRIPT) + "\n",
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert "\x1b" not in done.stdout
    version = retail.flows["retail"].version
    banner = done.stdout.splitlines()[0]
    assert banner.startswith("textdesk chat: flow retail (")
    assert f"{CUSTOMER} texting {BUSINESS}, a temporary database, deleted on exit" in banner
    screen = turns(done.stdout)
    typed = [t for t, _ in screen]
    assert typed == SCRIPT[: SCRIPT.index("/quit") + 1]  # nothing is read after /quit
    got = dict(enumerate(lines for _, lines in screen))

    assert got[0][0] == "bot: Hi from Acme Outfitters! Reply with a number:"
    assert got[0][-2:] == ["     [1 segment, GSM-7]", "     (state menu | start (new conversation) | score -)"]
    assert got[1][-1] == "     (state demo | choice menu/choice 4 | score 100.0)"
    assert got[2][0].startswith("bot: The TrailLite rain jacket: 2.5-layer waterproof shell")
    assert got[2][1:] == [
        "     media: traillite-jacket.png",
        "     [MMS, 1 file, GSM-7]",
        "     (state demo_jacket | choice demo/choice 1 | score 100.0)",
    ]
    assert got[3] == [f"state demo_jacket (flow retail, version {version})"]
    assert got[4] == ["(no variables)"]
    # A product takes the demo menu's numbers: "3" after the jacket is the pack's video.
    assert got[5][0].startswith("bot: Here's a quick look at the Summit 28L daypack.")
    assert got[5][1:] == [
        "     media: summit-pack-demo.mp4",
        "     [MMS, 1 file, GSM-7]",
        "     (state demo_clip | choice demo_jacket/choice 3 | score 100.0)",
    ]
    assert got[6][-1] == "     (state menu | keyword global/1 | score 100.0)"
    assert got[7][-1] == "     (state order_ask | choice menu/choice 3 | score 100.0)"
    assert got[8] == [
        "bot: Thanks! Order AC-123456 shipped yesterday and should arrive in 2-4 business days. Your tracking "
        "link is in the shipping email. Reply AGENT if anything looks wrong.",
        "     [2 segments, GSM-7]",
        "     (state order_found | pattern order_ask/choice 1 | score -)",
    ]
    assert got[9] == ["order_number = 123456"]
    assert got[10] == ["unknown command /nope; try /reset /state /vars /help /quit (// sends a text starting with /)"]
    assert got[11][0].startswith("bot: Acme Outfitters: You are unsubscribed")
    assert got[11][-1] == "     (state order_found | compliance | score -)"
    assert got[12] == [
        "     [no reply]",
        "     (state order_found | suppressed: this number opted out, START opts back in | score -)",
    ]
    assert got[13] == [
        f"state order_found (flow retail, version {version})",
        f"{CUSTOMER} has opted out: only START and HELP get a reply",
    ]
    assert got[14] == ["new conversation: you are now +15550000001 (the next text starts at menu)"]
    assert got[15][0] == "bot: Hi from Acme Outfitters! Reply with a number:"
    assert got[15][-1] == "     (state menu | start (new conversation) | score -)"
    assert got[16] == []


# -- the command in-process: arguments, exit codes, colour ---------------------


def run_chat(
    monkeypatch: pytest.MonkeyPatch, flows: Path, typed: str, *args: str, tty: bool = False
) -> tuple[int, str]:
    class Screen(io.StringIO):
        def isatty(self) -> bool:
            return tty

    screen = Screen()
    monkeypatch.setattr(sys, "stdin", io.StringIO(typed))
    monkeypatch.setattr(sys, "stdout", screen)
    code = main(["chat", "--flows", str(flows), *args])
    return code, screen.getvalue()


def test_end_of_input_exits_0(monkeypatch: pytest.MonkeyPatch, small: Path) -> None:
    code, out = run_chat(monkeypatch, small, "hi\n")  # no /quit: Ctrl-D on a terminal
    assert code == 0
    assert "you: hi" in out.splitlines()


def test_side_lines_are_dim_on_a_terminal(monkeypatch: pytest.MonkeyPatch, small: Path) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    code, out = run_chat(monkeypatch, small, "hi\n", tty=True)
    assert code == 0
    assert f"{DIM}     (state menu | start (new conversation) | score -){RESET}" in out.splitlines()
    assert out.count("\x1b[") == 2  # the side line only


def test_no_color_keeps_a_terminal_plain(monkeypatch: pytest.MonkeyPatch, small: Path) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    code, out = run_chat(monkeypatch, small, "hi\n", tty=True)
    assert code == 0
    assert "\x1b" not in out


def test_db_keeps_the_conversation(monkeypatch: pytest.MonkeyPatch, small: Path, tmp_path: Path) -> None:
    db = tmp_path / "kept.db"
    run_chat(monkeypatch, small, "hi\n1\n", "--db", str(db))
    code, out = run_chat(monkeypatch, small, "/state\n", "--db", str(db))
    assert code == 0
    assert f"database {db}" in out.splitlines()[0]
    assert turns(out)[0][1][0].startswith("state done (flow shop")


def test_bad_flow_name_is_a_clear_error(small: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["chat", "--flows", str(small), "--flow", "vpi"]) == 2
    # As graph and test say it: the likely flow first, then every flow.
    assert capsys.readouterr().err == (
        "textdesk chat: error: no flow named 'vpi' (did you mean 'vip'?); flows: shop, vip\n"
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--from", "5550000000"], "--from should be a phone number like +15550001234, got '5550000000'"),
        (["--to", "+1 555"], "--to should be a phone number like +15550001234, got '+1 555'"),
        (["--flows", "no-such-folder"], "flows folder not found: no-such-folder"),
    ],
)
def test_bad_arguments_exit_2(args: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["chat", "--flows", str(FLOWS), *args]) == 2
    assert capsys.readouterr().err == f"textdesk chat: error: {message}\n"


def test_flow_with_errors_prints_findings_and_exits_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = write_flows(tmp_path / "flows", shop=SHOP.replace("go: done", "go: dnoe"))
    assert main(["chat", "--flows", str(folder)]) == 1
    err = capsys.readouterr().err
    assert f"{folder / 'shop.yaml'}:9:" in err
    assert "error" in err
    assert err.rstrip().endswith("textdesk chat: 1 error in the flows; fix them first")


def _demo_jacket(monkeypatch: pytest.MonkeyPatch, *args: str) -> list[str]:
    """What the retail flow's jacket demo shows through the command, as the MMS settings make it."""
    code, out = run_chat(monkeypatch, FLOWS, "4\n1\n", *args)
    assert code == 0
    return turns(out)[1][1]


def test_mms_prefixes_from_the_environment_decide_mms_as_the_server_does(monkeypatch: pytest.MonkeyPatch) -> None:
    link = f"     {(FLOWS / 'media').resolve().as_uri()}/traillite-jacket.png"
    monkeypatch.setenv("TEXTDESK_MMS_PREFIXES", "+44")
    shown = _demo_jacket(monkeypatch, "--from", "+447700900123")
    assert "     media: traillite-jacket.png" in shown and "     [MMS, 1 file, GSM-7]" in shown
    assert link in _demo_jacket(monkeypatch)  # +1 is not listed any more: a link, as the server sends
    monkeypatch.setenv("TEXTDESK_MMS_PREFIXES", "none")
    assert link in _demo_jacket(monkeypatch)
    # The flag wins over the environment, as for serve.
    assert "     media: traillite-jacket.png" in _demo_jacket(monkeypatch, "--mms-prefixes", "+1,+44")


def test_bad_mms_prefixes_exit_2(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("TEXTDESK_MMS_PREFIXES", "44")
    assert main(["chat", "--flows", str(FLOWS)]) == 2
    assert capsys.readouterr().err == (
        "textdesk chat: error: --mms-prefixes/TEXTDESK_MMS_PREFIXES should list number prefixes like +1,+44 "
        "(or 'none'), got '44'\n"
    )


# -- Simulator ------------------------------------------------------------------


async def test_mms_reply_lists_media_by_name(retail: FlowSet, store: SQLiteStore) -> None:
    sim = simulator(retail, store)
    await sim.send("4")  # a new conversation starts at the menu, where 4 is the demo
    lines = await sim.send("1")
    assert lines[1:] == [
        "     media: traillite-jacket.png",
        "     [MMS, 1 file, GSM-7]",
        "     (state demo_jacket | choice demo/choice 1 | score 100.0)",
    ]


async def test_customer_without_mms_gets_links_in_the_text(retail: FlowSet, store: SQLiteStore) -> None:
    sim = simulator(retail, store, customer="+447700900123")
    await sim.send("4")
    lines = await sim.send("1")
    assert "     file:///m/traillite-jacket.png" in lines
    assert not any("media:" in line for line in lines)
    assert lines[-2] == "     [2 segments, GSM-7]"


async def test_state_and_vars(retail: FlowSet, store: SQLiteStore) -> None:
    sim = simulator(retail, store)
    version = retail.flows["retail"].version
    assert await sim.send("/state") == [
        f"no conversation yet: the next text starts at menu (flow retail, version {version})"
    ]
    assert await sim.send("/vars") == ["(no variables)"]
    await sim.send("3")
    await sim.send("order ac 654321 please")
    assert await sim.send("/state") == [f"state order_found (flow retail, version {version})"]
    assert await sim.send("/VARS") == ["order_number = 654321"]


async def test_did_you_mean_shows_in_state(retail: FlowSet, store: SQLiteStore) -> None:
    sim = simulator(retail, store)
    lines = await sim.send("shiping")
    side = "     (state menu | ambiguous shipping-cost,international-shipping (new conversation) | score 88.1)"
    assert lines[-1] == side
    assert (await sim.send("/state"))[1] == "waiting for a 'Did you mean' answer: shipping-cost, international-shipping"


async def test_commands_help_quit_and_unknown(retail: FlowSet, store: SQLiteStore) -> None:
    sim = simulator(retail, store)
    help_lines = await sim.send("/help")
    assert help_lines[0] == "commands:"
    assert all(any(line.startswith(f"  {c} ") for line in help_lines) for c in ("/reset", "/state", "/vars", "/quit"))
    assert await sim.send("/stats") == [
        "unknown command /stats; try /reset /state /vars /help /quit (// sends a text starting with /)"
    ]
    assert not sim.done
    assert await sim.send("/quit") == []
    assert sim.done
    assert await store.messages(sim.key) == []  # no command reached the flow


async def test_reset_continues_as_a_new_customer(retail: FlowSet, store: SQLiteStore) -> None:
    used = simulator(retail, store, customer="+15550000001")
    await used.send("hi")  # the next number already has a conversation: /reset must skip it
    sim = simulator(retail, store)
    await sim.send("4")
    old = sim.key
    assert await sim.send("/reset") == ["new conversation: you are now +15550000002 (the next text starts at menu)"]
    assert sim.customer == "+15550000002"
    assert (await sim.send("/state"))[0].startswith("no conversation yet")
    assert (await sim.send("hi"))[-1] == "     (state menu | start (new conversation) | score -)"
    kept = await store.get_session(old)
    assert kept is not None and kept.state == "demo"  # forgotten by the chat, not erased


async def test_every_line_is_a_new_message(retail: FlowSet, store: SQLiteStore) -> None:
    sim = simulator(retail, store)
    await sim.send("MENU")
    second = await sim.send("MENU")  # the same text again is a new message, not a carrier retry
    assert second[-1] == "     (state menu | keyword global/1 | score 100.0)"
    assert len(await store.messages(ConversationKey(CHANNEL, CUSTOMER, BUSINESS))) == 4


async def test_blank_lines_send_nothing_and_double_slash_sends_a_slash(retail: FlowSet, store: SQLiteStore) -> None:
    sim = simulator(retail, store)
    assert await sim.send("   ") == []
    lines = await sim.send("//menu")
    assert lines[0] == "bot: Hi from Acme Outfitters! Reply with a number:"
    inbound = [m.text for m in await store.messages(sim.key) if m.direction == "in"]
    assert inbound == ["/menu"]


async def test_color_dims_only_the_side_line(retail: FlowSet, store: SQLiteStore) -> None:
    lines = await simulator(retail, store, color=True).send("hi")
    assert lines[-1] == f"{DIM}     (state menu | start (new conversation) | score -){RESET}"
    assert not any("\x1b" in line for line in lines[:-1])


async def test_ucs2_note_names_the_characters(tmp_path: Path, store: SQLiteStore) -> None:
    flows = load_flows(write_flows(tmp_path / "flows", shop=SHOP))
    sim = simulator(flows, store)
    assert (await sim.send("hi"))[:2] == ["bot: Hi 😀 reply 1", "     [1 segment, UCS-2 because of 😀]"]
    assert (await sim.send("1"))[:3] == [
        "bot: Bye",
        "     media: https://example.com/a.png",
        "     [MMS, 1 file, GSM-7]",
    ]


# -- choosing the flow and business number ------------------------------------


def test_choose_target(small: Path) -> None:
    flows = load_flows(small)
    default = choose_target(flows)
    assert default.flow.name == "shop"
    assert flows.for_number(default.business).name == "shop"  # a number no flow lists
    assert choose_target(flows, "vip") == Target(flows.flows["vip"], "+15555550199")
    assert choose_target(flows, to="+15555550199").flow.name == "vip"
    assert choose_target(flows, "shop", "+15550001234") == Target(flows.flows["shop"], "+15550001234")
    with pytest.raises(TargetError, match=r"--to \+15555550199 is answered by flow 'vip', not 'shop'"):
        choose_target(flows, "shop", "+15555550199")
    with pytest.raises(TargetError, match=r"no flow named 'vpi' \(did you mean 'vip'\?\); flows: shop, vip"):
        choose_target(flows, "vpi")


def test_flow_without_numbers_that_is_not_default_cannot_be_chosen(tmp_path: Path) -> None:
    lonely = VIP.replace('numbers: ["+15555550199"]\n', "").replace("flow: vip", "flow: lonely")
    flows = load_flows(write_flows(tmp_path / "flows", shop=SHOP, lonely=lonely))
    with pytest.raises(TargetError, match="lists no numbers and is not the default flow"):
        choose_target(flows, "lonely")
