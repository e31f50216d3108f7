"""What operators rely on: metrics, readiness, JSON logs, flood control, storage faults."""

from __future__ import annotations

import asyncio
import json
import logging
import sqlite3
from pathlib import Path

import pytest

from bot.logjson import JsonFormatter
from bot.web.keys import SERVICE
from tests.conftest import AppFactory, Phone, db_rows


async def test_metrics_in_prometheus_format(make_client: AppFactory) -> None:
    client = await make_client()
    phone = Phone(client, "+15550007001")
    await phone.text("do u ship to canada")
    await phone.text("shipping")
    await phone.text("i like turtles")
    await phone.text("STOP")
    response = await client.get("/metrics")
    assert response.status == 200
    assert response.content_type == "text/plain"
    text = await response.text()
    assert 'textdesk_messages_in_total{carrier="twilio",outcome="flow"} 3.0' in text
    assert 'textdesk_messages_in_total{carrier="twilio",outcome="compliance"} 1.0' in text
    assert 'textdesk_messages_out_total{carrier="twilio",outcome="replied"} 4.0' in text
    assert 'textdesk_faq_total{result="hit"} 1.0' in text
    assert 'textdesk_faq_total{result="ambiguous"} 1.0' in text
    assert 'textdesk_faq_total{result="miss"} 1.0' in text
    assert 'textdesk_consent_events_total{event="opt_out"} 1.0' in text
    assert "textdesk_outbox_depth 0.0" in text
    assert "textdesk_handling_seconds_count 4.0" in text
    assert "textdesk_flow_reloads_total" in text
    # One at a time, each turn is its own group commit (the flow version saved at start is not a turn).
    assert "textdesk_store_write_batches 4.0" in text
    assert "textdesk_store_batched_writes 4.0" in text


async def test_readyz_and_healthz(make_client: AppFactory) -> None:
    client = await make_client(outbox_worker=True)
    assert (await client.get("/healthz")).status == 200
    ready = await client.get("/readyz")
    assert ready.status == 200, await ready.text()
    assert await ready.json() == {"status": "ready", "flows": ["retail"]}


async def test_flood_is_answered_calmly_without_slowing_others(make_client: AppFactory, db_path: Path) -> None:
    client = await make_client(flood_burst=3, flood_window=10.0)
    flooder = Phone(client, "+15550007002")
    calm = Phone(client, "+15550007003")
    results = await asyncio.gather(*(flooder.text(f"hello {n}") for n in range(50)), calm.text("1"))
    answered = [r for r in results[:50] if r.messages]
    assert len(answered) == 3
    assert "Mon-Sat" in results[50].body
    # STOP still works in the middle of a flood.
    assert (await flooder.text("STOP")).body.startswith("Acme Outfitters: You are unsubscribed")
    # Every message was recorded, the surplus as throttled.
    assert db_rows(db_path, "SELECT kind, count(*) FROM inbound WHERE customer = ? GROUP BY kind ORDER BY kind",
                   flooder.number) == [("compliance", 1), ("flow", 3), ("throttled", 47)]
    text = await (await client.get("/metrics")).text()
    assert "textdesk_throttled_total 47.0" in text


async def test_locked_database_answers_503_and_recovers(make_client: AppFactory, db_path: Path) -> None:
    client = await make_client()
    phone = Phone(client, "+15550007004")
    await phone.text("hi")
    store = client.server.app[SERVICE].store
    await store.db.execute("PRAGMA busy_timeout = 50")  # type: ignore[attr-defined]
    blocker = sqlite3.connect(db_path, isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")  # another writer holds the database
    try:
        params = phone.params("1")
        refused = await phone.post(params)
        assert refused.status == 503
        assert "storage_unavailable" in refused.text
        assert (await client.get("/readyz")).status == 503
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    # The carrier retries the same message: now it is handled, once.
    retried = await phone.post(params)
    assert retried.status == 200 and "Mon-Sat" in retried.body
    assert db_rows(db_path, "SELECT count(*) FROM inbound WHERE provider_id = ?", params["MessageSid"]) == [(1,)]


def test_json_log_lines_carry_the_event() -> None:
    record = logging.LogRecord("textdesk.conversation", logging.INFO, __file__, 1, "handled %s", ("x",), None)
    record.event = {"conversation": "abc", "state_before": "menu", "state_after": "hours", "customer": "+15****01"}
    line = json.loads(JsonFormatter().format(record))
    assert line["message"] == "handled x"
    assert line["level"] == "INFO"
    assert (line["state_before"], line["state_after"], line["customer"]) == ("menu", "hours", "+15****01")


async def test_per_message_log_masks_numbers(make_client: AppFactory, caplog: pytest.LogCaptureFixture) -> None:
    client = await make_client()
    with caplog.at_level(logging.INFO, logger="textdesk.conversation"):
        await Phone(client, "+15550007005").text("1")
    events = [r.event for r in caplog.records if hasattr(r, "event")]
    (event,) = events
    assert event["customer"] == "+15*******05"
    assert "+15550007005" not in caplog.text
    assert event["state_after"] == "hours" and event["reply_segments"] == [1]
    assert event["latency_ms"] >= 0


async def test_read_only_database_answers_503_and_recovers(make_client: AppFactory, db_path: Path) -> None:
    client = await make_client()
    phone = Phone(client, "+15550007006")
    store = client.server.app[SERVICE].store
    # query_only is SQLite's own read-only switch; it refuses writes even to root,
    # unlike file permissions, so the fault is real on any machine.
    await store.db.execute("PRAGMA query_only = ON")  # type: ignore[attr-defined]
    params = phone.params("1")
    refused = await phone.post(params)
    assert refused.status == 503 and "storage_unavailable" in refused.text
    assert db_rows(db_path, "SELECT count(*) FROM inbound") == [(0,)]
    await store.db.execute("PRAGMA query_only = OFF")  # type: ignore[attr-defined]
    assert (await phone.post(params)).status == 200
    assert db_rows(db_path, "SELECT count(*) FROM inbound") == [(1,)]


def test_lint_costs_lists_every_reply(capsys: pytest.CaptureFixture[str]) -> None:
    from bot.cli import main

    assert main(["lint", "--costs", "flows"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert "flows/retail.yaml:52:3: state 'menu': 1 of 6 segments, GSM-7" in lines
    assert any("FAQ 'shipping-cost'" in line for line in lines)


def test_flow_names_cannot_reach_code(tmp_path: Path) -> None:
    """transitions imports dotted callback *names*; no name from a flow file ever reaches it as one."""
    from bot.engine import FlowEngine
    from bot.flows import FlowLoadError, load_flow, load_flow_text

    with pytest.raises(FlowLoadError, match=r"state name 'os\.system' should use only letters"):
        load_flow_text("start: a\nstates:\n  a: {say: hi, final: true}\n  os.system: {say: x, final: true}\n",
                       "x.yaml", str(tmp_path))
    engine = FlowEngine(load_flow(Path("flows/retail.yaml")))
    for event in engine.machine.events.values():
        for transitions in event.transitions.values():
            for transition in transitions:
                for callbacks in (transition.before, transition.after, transition.prepare, transition.conditions):
                    assert all(callable(cb) for cb in callbacks), event.name
    for state in engine.machine.states.values():
        assert all(callable(cb) for cb in (*state.on_enter, *state.on_exit))


async def test_full_database_answers_503_and_recovers(make_client: AppFactory, db_path: Path) -> None:
    client = await make_client()
    phone = Phone(client, "+15550007007")
    await phone.text("hi")
    store = client.server.app[SERVICE].store
    rows = await store.db.execute_fetchall("PRAGMA page_count")  # type: ignore[attr-defined]
    (pages,) = next(iter(rows))
    # max_page_count caps the file where it is: the next write hits SQLITE_FULL,
    # "database or disk is full", exactly as a full disk does.
    await store.db.execute(f"PRAGMA max_page_count = {pages}")  # type: ignore[attr-defined]
    text = "do you ship to canada and how much does it cost to ship a jacket there " * 20
    refused = None
    for _ in range(50):  # the first writes may still fit in free space of the last page
        params = phone.params(text)
        answer = await phone.post(params)
        if answer.status != 200:
            refused = answer
            break
    assert refused is not None and refused.status == 503 and "storage_unavailable" in refused.text
    assert db_rows(db_path, "SELECT count(*) FROM inbound WHERE provider_id = ?", params["MessageSid"]) == [(0,)]
    await store.db.execute("PRAGMA max_page_count = 1073741823")  # type: ignore[attr-defined]
    assert (await phone.post(params)).status == 200
    assert db_rows(db_path, "SELECT count(*) FROM inbound WHERE provider_id = ?", params["MessageSid"]) == [(1,)]
