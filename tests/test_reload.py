"""Hot reload: edited flows are swapped in safely; broken edits keep the old version."""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from bot.reload import FlowReloader
from bot.web.keys import RELOADER
from tests.conftest import FLOWS, AppFactory, Phone, db_rows

HOURS = "Our stores are open Mon-Sat 9am-8pm and Sun 10am-6pm."


@pytest.fixture
def flows(tmp_path: Path) -> Path:
    folder = tmp_path / "flows"
    shutil.copytree(FLOWS, folder, ignore=shutil.ignore_patterns("tests"))
    return folder


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))
    # Make sure the snapshot sees a change even on coarse-mtime filesystems.
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))


def reloader(client: TestClient[Any, Any]) -> FlowReloader:
    return client.server.app[RELOADER]


async def test_edit_is_served_after_reload(make_client: AppFactory, flows: Path) -> None:
    client = await make_client(flows_dir=flows, reload_interval=0)
    phone = Phone(client, "+15550006001")
    assert HOURS in (await phone.text("1")).body
    assert await reloader(client).check() is False  # nothing changed yet
    edit(flows / "retail.yaml", "Sun 10am-6pm.", "Sun 11am-5pm.")
    assert await reloader(client).check() is True
    assert reloader(client).reloads == 1
    assert "Sun 11am-5pm." in (await Phone(client, "+15550006002").text("1")).body


async def test_broken_edit_keeps_the_old_version(
    make_client: AppFactory, flows: Path, caplog: pytest.LogCaptureFixture
) -> None:
    client = await make_client(flows_dir=flows, reload_interval=0)
    edit(flows / "retail.yaml", "        go: hours\n", "        go: hourz\n")
    with caplog.at_level(logging.ERROR, logger="textdesk.reload"):
        assert await reloader(client).check() is False
    assert "state 'hourz' does not exist (did you mean 'hours'?)" in caplog.text
    assert "retail.yaml:" in caplog.text
    assert reloader(client).rejected == 1
    assert HOURS in (await Phone(client, "+15550006003").text("1")).body


async def test_hidden_and_editor_files_beside_the_flows_are_ignored(make_client: AppFactory, flows: Path) -> None:
    # Copying the folder from a Mac (or an editor saving) leaves these beside
    # the flow; the AppleDouble file is binary and would not load as a flow.
    client = await make_client(flows_dir=flows, reload_interval=0)
    (flows / "._retail.yaml").write_bytes(b"\x00\x05\x16\x07\x00\x02\x00\x00Mac OS X        \xff\xfe")
    (flows / ".#retail.yaml").write_bytes(b"user@host.1234:1700000000")
    (flows / "retail.yaml~").write_text("broken: [\n")
    assert await reloader(client).check() is False  # no flow changed
    assert reloader(client).rejected == 0
    edit(flows / "retail.yaml", "Sun 10am-6pm.", "Sun 11am-5pm.")
    assert await reloader(client).check() is True
    assert reloader(client).rejected == 0
    assert "Sun 11am-5pm." in (await Phone(client, "+15550006009").text("1")).body


async def test_customer_in_a_removed_state_gets_a_notice_not_an_error(
    make_client: AppFactory, flows: Path
) -> None:
    client = await make_client(flows_dir=flows, reload_interval=0)
    phone = Phone(client, "+15550006004")
    await phone.text("3")  # now waiting in order_ask
    path = flows / "retail.yaml"
    text = path.read_text()
    start = text.index("  order_ask:\n")
    end = text.index("  demo:\n")
    text = text[:start] + text[end:]
    text = text.replace("        go: order_ask\n", "        go: agent\n")
    path.write_text(text)
    assert await reloader(client).check() is True
    # A text no route takes (an order number is one at the menu now, which the
    # edit sends to the agent).
    reply = await phone.text("hmm")
    assert reply.body.startswith("We've updated our menu since your last message.\n\nHi from Acme Outfitters!")


async def test_reload_while_messages_are_processed(make_client: AppFactory, flows: Path, db_path: Path) -> None:
    client = await make_client(flows_dir=flows, reload_interval=0)
    phones = [Phone(client, f"+1555000{n:04d}") for n in range(60)]
    edit(flows / "retail.yaml", "Sun 10am-6pm.", "Sun 11am-5pm.")

    async def texting(phone: Phone) -> list[str]:
        return [(await phone.text(t)).body for t in ("1", "MENU", "1")]

    results = await asyncio.gather(reloader(client).check(), *(texting(p) for p in phones))
    assert results[0] is True
    bodies = [body for replies in results[1:] for body in replies]
    assert len(bodies) == 180
    # Every message got exactly one reply from one whole version, old or new.
    hours = [b for b in bodies if "Sun 1" in b]
    assert len(hours) == 120
    assert all(("Sun 10am-6pm." in b) != ("Sun 11am-5pm." in b) for b in hours)
    assert db_rows(db_path, "SELECT count(*) FROM inbound") == [(180,)]
    assert db_rows(db_path, "SELECT count(*) FROM outbound") == [(180,)]


async def test_lint_against_db_counts_disturbed_conversations(
    make_client: AppFactory, flows: Path, db_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from bot.cli import main

    client = await make_client(flows_dir=flows, reload_interval=0)
    for n in range(3):
        await Phone(client, f"+155500061{n:02d}").text("3")  # order_ask
    for n in range(2):
        await Phone(client, f"+155500062{n:02d}").text("1")  # hours
    await Phone(client, "+15550006300").text("2")  # returns: untouched
    await client.close()
    path = flows / "retail.yaml"
    text = path.read_text()
    text = text[: text.index("  order_ask:\n")] + text[text.index("  demo:\n") :]
    text = text.replace("        go: order_ask\n", "        go: agent\n").replace("Sun 10am-6pm.", "Sun 11am-5pm.")
    path.write_text(text)
    capsys.readouterr()
    # The CLI runs its own event loop: call it from a thread, as a shell would.
    assert await asyncio.to_thread(main, ["lint", str(flows), "--against", str(db_path)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out == [
        f"{db_path}: 2 conversations in retail/hours, which this version changes",
        f"{db_path}: 3 conversations in retail/order_ask, which this version removes "
        "(they will get the 'lost_notice' and move on)",
    ]
    assert await asyncio.to_thread(main, ["lint", str(flows), "--against", str(db_path.with_name("nope.db"))]) == 2
