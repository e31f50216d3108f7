"""``textdesk send``, ``broadcast`` and ``subscribers`` against the real server on loopback.

Each command runs in a thread (it is a blocking HTTP client) while the test's
event loop serves the API and drives the feeder and the outbox.
"""

from __future__ import annotations

import asyncio
import io
from collections import Counter
from pathlib import Path

import pytest

from bot.api.client import ApiClient, ClientError
from bot.api.csvnumbers import read_numbers, read_numbers_at
from bot.cli import main
from bot.clock import VirtualClock
from bot.commands.broadcast import follow, progress_line
from bot.flows import load_flows
from bot.web.keys import SERVICE
from tests.test_api_harness import API_TOKEN, SHOP, Api

# The API fixtures (api, make_api, fake_twilio) live in the harness module.
pytest_plugins = ("tests.test_api_harness",)


@pytest.fixture
def cli_env(api: Api, monkeypatch: pytest.MonkeyPatch) -> Api:
    monkeypatch.setenv("TEXTDESK_API_URL", str(api.client.make_url("")))
    monkeypatch.setenv("TEXTDESK_API_TOKEN", API_TOKEN)
    return api


async def run_cli(*argv: str) -> int:
    return await asyncio.to_thread(main, list(argv))


async def test_send_starts_a_conversation(cli_env: Api, capsys: pytest.CaptureFixture[str]) -> None:
    code = await run_cli("send", "+1 555 000 8001", "--state", "order_ready", "--var", "name=Ann", "--var", "order=7")
    out = capsys.readouterr().out
    assert code == 0, out
    assert "+15550008001: flow shop at order_ready, from +15555550100 via twilio" in out
    assert "queued: Hi Ann, order 7 is ready. Reply 1 for hours.  [+1 media]" in out
    await cli_env.outbox.run_once()
    assert len(cli_env.fake.received) == 1


async def test_send_errors(cli_env: Api, capsys: pytest.CaptureFixture[str],
                           monkeypatch: pytest.MonkeyPatch) -> None:
    assert await run_cli("send", "+15550008002", "--state", "nowhere") == 1
    assert "textdesk send: error: unknown_state: flow 'shop' has no state 'nowhere'" in capsys.readouterr().err
    assert await run_cli("send", "+15550008002", "--var", "oops") == 2
    monkeypatch.delenv("TEXTDESK_API_TOKEN")
    assert await run_cli("send", "+15550008002") == 2
    assert "set TEXTDESK_API_TOKEN" in capsys.readouterr().err
    monkeypatch.setenv("TEXTDESK_API_TOKEN", "not-the-token-at-all")
    assert await run_cli("send", "+15550008002") == 1
    assert "invalid_token" in capsys.readouterr().err
    monkeypatch.setenv("TEXTDESK_API_URL", "http://127.0.0.1:9")
    assert await run_cli("send", "+15550008002") == 1
    assert "cannot reach the textdesk server" in capsys.readouterr().err


async def test_subscribers_add_list_remove(cli_env: Api, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    await cli_env.phone("+15550008013").text("STOP")
    sheet = tmp_path / "signups.csv"
    sheet.write_text("Name,Phone\nAnn,+1 555 000 8011\nBo,+15550008012\nCy,+15550008013\n", encoding="utf-8-sig")
    assert await run_cli("subscribers", "add", "deals", "--csv", str(sheet), "--source", "paper form") == 0
    out = capsys.readouterr().out
    assert "+15550008013: opted out (texted STOP); not added" in out
    assert "2 subscribed, 0 already subscribed, 1 opted out, to deals on +15555550100" in out
    assert await run_cli("subscribers", "list", "deals") == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split("\t")[0] for line in lines[:-1]] == ["+15550008011", "+15550008012"]
    assert lines[0].endswith("\tapi: paper form") and lines[-1] == "2 subscribers of deals"
    assert await run_cli("subscribers", "remove", "deals", "+15550008011") == 0
    assert await run_cli("subscribers", "remove", "deals", "+15550008011") == 1
    assert "+15550008011: was not subscribed" in capsys.readouterr().out


async def test_broadcast_from_csv_with_progress(
    cli_env: Api, capsys: pytest.CaptureFixture[str], tmp_path: Path, clock: VirtualClock
) -> None:
    numbers = [f"+1555000{9000 + i}" for i in range(30)]
    await cli_env.post("/api/audiences/deals/subscribers", {"numbers": numbers[:20], "source": "import"})
    sheet = tmp_path / "list.csv"
    sheet.write_text("number\n" + "\n".join(numbers) + "\n", encoding="utf-8")
    command = asyncio.ensure_future(run_cli("broadcast", str(sheet), "--text", "Sale today", "--interval", "0.01"))
    while not command.done():
        await cli_env.feeder.run_once()
        await cli_env.outbox.run_once()
        clock.advance(0.1)
        await asyncio.sleep(0.005)
    assert command.result() == 0
    captured = capsys.readouterr()
    assert "30 recipients" in captured.out
    assert "done: 20 sent (0 delivered), 0 failed, 0 opted out, 10 without opt-in" in captured.out
    bars = captured.err.splitlines()
    assert bars[-1].startswith("[" + "#" * 30 + "] 100%  30/30  sent 20")
    assert len(bars) >= 2  # it showed progress on the way
    assert Counter(r.form["To"][0] for r in cli_env.fake.received) == dict.fromkeys(numbers[:20], 1)


async def test_broadcast_arguments(cli_env: Api, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert await run_cli("broadcast", "--text", "x") == 2
    assert await run_cli("broadcast", "--audience", "nobody", "--text", "x") == 1
    assert "empty_audience" in capsys.readouterr().err
    empty = tmp_path / "empty.csv"
    empty.write_text("phone\n", encoding="utf-8")
    assert await run_cli("broadcast", str(empty), "--text", "x") == 2
    assert await run_cli("broadcast", str(tmp_path / "missing.csv"), "--text", "x") == 2


def test_csv_columns_and_headers(tmp_path: Path) -> None:
    cases = {
        "plain.csv": ("+15550000001\n+15550000002\n", ["+15550000001", "+15550000002"]),
        "header.csv": ("numbers\n+15550000001\n", ["+15550000001"]),
        "named.csv": ("name,Mobile\nAnn,+15550000001\nBo,\n\n", ["+15550000001"]),
    }
    for name, (text, expected) in cases.items():
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        assert read_numbers(path) == expected, name


def test_progress_line() -> None:
    counts = {"total": 10, "pending": 4, "queued": 1, "sent": 3, "delivered": 1, "failed": 0,
              "skipped_opted_out": 1, "skipped_no_consent": 0}
    assert progress_line(counts, width=10) == "[#####.....]  50%  5/10  sent 4  failed 0  skipped 1"


async def test_subscribers_add_sends_a_csv_longer_than_one_request_takes_in_several(
    cli_env: Api, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    # The server takes 10,000 numbers a request: a sheet of 10,003 was refused whole.
    await cli_env.phone("+15550200007").text("STOP")
    numbers = [f"+1555020{i:04d}" for i in range(10_000)] + [f"+1555021{i:04d}" for i in range(3)]
    sheet = tmp_path / "big.csv"
    sheet.write_text("phone\n" + "\n".join(numbers) + "\n", encoding="utf-8")
    assert await run_cli("subscribers", "add", "deals", "--csv", str(sheet), "--source", "store sign-ups") == 0
    out = capsys.readouterr().out
    assert "+15550200007: opted out (texted STOP); not added" in out
    assert "10002 subscribed, 0 already subscribed, 1 opted out, to deals on +15555550100" in out
    _, data = await cli_env.get("/api/audiences/deals/subscribers?limit=1&after=%2B15550209999")
    assert [s["number"] for s in data["subscribers"]] == ["+15550210000"]


async def test_broadcast_stops_following_when_its_state_is_removed_from_the_flow(
    cli_env: Api, capsys: pytest.CaptureFixture[str], tmp_path: Path, clock: VirtualClock
) -> None:
    # The feeder waits (sends nothing) while the state is gone; the command polled that forever.
    numbers = [f"+1555000{7000 + i}" for i in range(3)]
    await cli_env.post("/api/audiences/deals/subscribers", {"numbers": numbers, "source": "import"})
    assert await run_cli("broadcast", "--audience", "deals", "--state", "order_ready", "--var", "name=A",
                         "--var", "order=1", "--no-wait") == 0
    broadcast_id = capsys.readouterr().out.split()[1].rstrip(":")
    flows = tmp_path / "flows"
    (flows / "shop.yaml").write_text(SHOP.split("  order_ready:")[0], encoding="utf-8")
    service = cli_env.client.server.app[SERVICE]
    service.swap(load_flows(flows))
    command = asyncio.ensure_future(run_cli("broadcast", "--status", broadcast_id, "--interval", "0.01"))
    for _ in range(500):
        if command.done():
            break
        await cli_env.feeder.run_once()
        clock.advance(0.1)
        await asyncio.sleep(0.005)
    assert command.done(), "the command is still polling a broadcast that cannot go on"
    assert command.result() == 1
    err = capsys.readouterr().err
    assert f"broadcast {broadcast_id} is waiting: flow 'shop' has no state 'order_ready'" in err
    assert "0/3" in err
    assert cli_env.fake.received == []
    _, data = await cli_env.get(f"/api/broadcasts/{broadcast_id}")
    assert data["status"] == "waiting" and "order_ready" in data["waiting"]
    # Put back, it goes on: the answer says sending again.
    (flows / "shop.yaml").write_text(SHOP, encoding="utf-8")
    service.swap(load_flows(flows))
    _, data = await cli_env.get(f"/api/broadcasts/{broadcast_id}")
    assert data["status"] == "sending" and data["waiting"] is None


async def test_subscribers_remove_says_when_the_number_had_opted_out(
    cli_env: Api, capsys: pytest.CaptureFixture[str]
) -> None:
    phone = cli_env.phone("+15550008021")
    await phone.text("JOIN")
    await phone.text("STOP")
    assert await run_cli("subscribers", "remove", "deals", "+15550008021") == 1
    assert capsys.readouterr().out == "+15550008021: was not subscribed: it opted out (texted STOP)\n"


async def test_a_refused_csv_number_is_named_by_its_line_in_the_file(
    cli_env: Api, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    # The refusal said 'numbers[2]', which no spreadsheet shows: the file's line does.
    sheet = tmp_path / "list.csv"
    sheet.write_text("sep=;\nName;Phone\n\nAnn;+15550008031\n\"Bo\nDay\";+15550008032\nCy;12345\n", encoding="utf-8")
    assert await run_cli("broadcast", str(sheet), "--text", "Sale") == 1
    err = capsys.readouterr().err
    assert f"textdesk broadcast: error: malformed_number: {sheet}:7: '12345' has no country code" in err
    assert "numbers[" not in err
    # Numbers given as arguments come first in 'subscribers add': the index is not the file's row.
    assert await run_cli("subscribers", "add", "deals", "+15550008033", "--csv", str(sheet), "--source", "x") == 1
    err = capsys.readouterr().err
    assert f"malformed_number: {sheet}:7: '12345'" in err, err
    assert await run_cli("subscribers", "add", "deals", "+15550008034", "555", "--source", "x") == 1
    assert "malformed_number: NUMBER 2 ('555' on the command line): '555' has no country code" in \
        capsys.readouterr().err


def test_csv_numbers_keep_their_lines_in_the_file(tmp_path: Path) -> None:
    cases = {
        "\r\n\r\nsep=,\r\nphone\r\n+15550000001\r\n\r\n+15550000002\r\n": [("+15550000001", 5), ("+15550000002", 7)],
        "\ufeffname,mobile\n\"Lee,\nAnn\",+15550000001\nBo,\nCy,+15550000002": [("+15550000001", 2),
                                                                              ("+15550000002", 5)],
        "+15550000001\n\n+15550000002\n": [("+15550000001", 1), ("+15550000002", 3)],
    }
    for i, (text, expected) in enumerate(cases.items()):
        path = tmp_path / f"{i}.csv"
        path.write_bytes(text.encode("utf-8"))
        assert read_numbers_at(path) == expected, text


@pytest.mark.parametrize("key", ["k€y", "two\nlines", "tab\there", "x" * 201])
async def test_broadcast_key_the_server_cannot_take_is_refused_by_name(
    cli_env: Api, capsys: pytest.CaptureFixture[str], key: str
) -> None:
    # urllib raised on a key that is no header value (a traceback); 'héllo' reached the
    # server, whose refusal named the header, not the --key option.
    assert await run_cli("broadcast", "--audience", "deals", "--text", "hi", "--key", key) == 2
    assert capsys.readouterr().err == (
        "textdesk broadcast: error: --key should be at most 200 visible ASCII characters (letters, digits, "
        f"punctuation; a UUID, say), got {key!r}\n")
    assert cli_env.fake.received == []


async def test_a_broadcast_whose_flow_is_gone_says_so(cli_env: Api, tmp_path: Path) -> None:
    # With its flow removed, the default flow stands in; the reason named only that one.
    numbers = ["+15550008041"]
    await cli_env.post("/api/audiences/deals/subscribers", {"numbers": numbers, "source": "import",
                                                            "from": "+15555550199"})
    status, data = await cli_env.post("/api/broadcasts", {"audience": "deals", "state": "hello", "flow": "other"})
    assert status == 202, data
    flows = tmp_path / "flows"
    (flows / "other.yaml").unlink()
    cli_env.client.server.app[SERVICE].swap(load_flows(flows))
    _, data = await cli_env.get(f"/api/broadcasts/{data['id']}")
    assert data["status"] == "waiting"
    assert data["waiting"].startswith("flow 'other' is gone (removed or renamed), and the default flow 'shop' "
                                      "has no state 'hello'; nothing more is sent")


class _CtrlC(io.StringIO):
    """A terminal whose operator presses Ctrl-C as the first progress line is drawn."""

    def write(self, text: str) -> int:
        raise KeyboardInterrupt


async def test_ctrl_c_while_following_says_the_broadcast_goes_on(
    cli_env: Api, capsys: pytest.CaptureFixture[str]
) -> None:
    # It said "textdesk: interrupted", as if the broadcast had been stopped too.
    await cli_env.post("/api/audiences/deals/subscribers", {"numbers": ["+15550008051"], "source": "import"})
    _, data = await cli_env.post("/api/broadcasts", {"audience": "deals", "text": "Sale"})
    client = ApiClient(str(cli_env.client.make_url("")).rstrip("/"), API_TOKEN)
    assert await asyncio.to_thread(follow, client, data["id"], 0.01, _CtrlC()) == 130
    assert capsys.readouterr().err == (
        f"\ntextdesk broadcast: stopped following; broadcast {data['id']} goes on at the server (this command never "
        f"stops it); look again with: textdesk broadcast --status {data['id']}\n")


def test_losing_the_server_while_following_says_how_to_look_again(capsys: pytest.CaptureFixture[str]) -> None:
    # Port 9 on loopback: nothing answers, as when the server restarts under a long broadcast.
    client = ApiClient("http://127.0.0.1:9", API_TOKEN)
    with pytest.raises(ClientError) as info:
        follow(client, "bc_0123456789abcdef", 0.01, io.StringIO())
    assert str(info.value).startswith("cannot reach the textdesk server at http://127.0.0.1:9: ")
    assert str(info.value).endswith("; a broadcast it accepted goes on there (this command never stops it): look "
                                    "again with: textdesk broadcast --status bc_0123456789abcdef")
