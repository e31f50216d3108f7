"""Every statement on the message path uses an index: none walks a whole table.

A full scan costs nothing in a test and grows with every message ever stored
in production (the outbox poll did exactly that, every half second, until
this test). The statements are not listed by hand: SQLite's trace callback
records whatever the store really runs during a day-in-the-life scenario,
and each one is run through ``EXPLAIN QUERY PLAN`` on the same file.
"""

from __future__ import annotations

import re
import sqlite3
from dataclasses import replace
from pathlib import Path

from bot.store import ConsentChange, SQLiteStore
from bot.types import Reply
from tests.test_store_sqlite import T0, inbound, key_for, session_for

# Tables that grow with traffic; a SCAN of any of them is a defect on the message path.
GROWING = ("inbound", "outbound", "conversations", "consent", "consent_events", "early_receipts", "concat_parts",
           "outbound_parts")


async def _scenario(store: SQLiteStore) -> None:
    for i in range(30):
        key = key_for(f"+1555600{i:04d}")
        await store.load_turn(inbound(f"SM{i}", key))
        await store.commit_turn(inbound(f"SM{i}", key), session_for(key, "menu"), (Reply("hi"),), "", T0, queue=True)
    stop = inbound("SMstop", key_for("+15556000001"), "STOP")
    await store.commit_turn(stop, None, (Reply("bye"),), "", T0, consent=ConsentChange("opt_out", "keyword STOP"))
    await store.is_opted_out("+15556000001", "+15550000000")
    due = await store.due_outbox(T0 + 1)
    await store.outbox_depth()
    await store.record_receipt("twilio", "SMout-early", "delivered", "", T0 + 2)  # before the send is marked
    await store.mark_sent(due[0].id, "SMout-early", T0 + 2)
    await store.mark_sent(due[1].id, "SMout-1", T0 + 2)
    await store.record_receipt("twilio", "SMout-1", "delivered", "", T0 + 3)
    # A reply the carrier sent as several messages (Vonage SMS parts), one part reported early.
    await store.record_receipt("twilio", "SMpart-2", "delivered", "", T0 + 2)
    await store.chunks_sent(due[4].id)
    await store.mark_parts_sent(due[4].id, 0, ("SMpart-1", "SMpart-2"), T0 + 2, done=True)
    await store.record_receipt("twilio", "SMpart-1", "delivered", "", T0 + 3)
    await store.mark_retry(due[2].id, "HTTP 500", T0 + 10)
    await store.mark_failed(due[3].id, "HTTP 400")
    await store.record_consent("+15556000002", "+15550000000", ConsentChange("opt_out", "api"), T0 + 4)
    await store.messages(key_for("+15556000003"))  # a conversation's log (the API, `textdesk chat`)
    # A concatenated SMS: a part, the last part (joined and recorded), the reference reused a day later.
    first = replace(inbound("SMp1", key_for("+15556000004"), "STORE "), concat=("2C", 2, 1))
    await store.add_concat_part(first, T0)
    await store.add_concat_part(replace(first, provider_id="SMp2", text="HOURS", concat=("2C", 2, 2)), T0)
    joined = replace(first, provider_id="concat:SMp1", text="STORE HOURS", concat=None)
    await store.commit_turn(joined, None, (), "", T0)
    await store.add_concat_part(replace(first, provider_id="SMp3", concat=("2C", 3, 2)), T0 + 86_400)


async def test_message_path_statements_never_scan_a_growing_table(tmp_path: Path) -> None:
    path = tmp_path / "plans.db"
    store = SQLiteStore(path)
    await store.open()
    statements: list[str] = []
    try:
        await store.db.set_trace_callback(statements.append)
        await _scenario(store)
        await store.db.set_trace_callback(None)
    finally:
        await store.close()

    checked = set()
    conn = sqlite3.connect(path)
    try:
        for sql in statements:
            verb = sql.lstrip().split(None, 1)[0].upper()
            if verb not in ("SELECT", "UPDATE", "DELETE", "INSERT") or sql in checked:
                continue
            checked.add(sql)
            plan = " | ".join(row[3] for row in conn.execute(f"EXPLAIN QUERY PLAN {sql}"))
            # Plans name a table by its alias ("SCAN o"): name it by the table again.
            for table, alias in re.findall(r"\b(?:FROM|JOIN) (\w+)(?: AS)? (\w+)", sql):
                plan = re.sub(rf"\b(SCAN|SEARCH) {alias}\b", rf"\1 {table}", plan)
            # A scan of a partial index is bounded by what it holds (the queue), not the history.
            bounded = plan.replace("SCAN outbound USING INDEX outbox_due", "")
            bounded = bounded.replace("SCAN outbound USING COVERING INDEX outbox_due", "")
            scans = [t for t in GROWING if f"SCAN {t}" in bounded]
            # An index searched by channel alone walks nearly everything: there are a handful of channels.
            scans += [t for t in GROWING if re.search(rf"SEARCH {t} USING (COVERING )?INDEX \w+ \(channel=\?\)", plan)]
            assert not scans, f"full scan of {scans} in:\n{sql}\nplan: {plan}"
    finally:
        conn.close()
    # The scenario really exercised the path (a trace that recorded nothing checks nothing).
    joined = "\n".join(checked)
    for fragment in (
        "FROM inbound",
        "INDEXED BY outbox_due",
        "early_receipts",
        "INSERT INTO consent",
        "UPDATE outbound",
        "DELETE FROM concat_parts WHERE received_at",
        "DELETE FROM concat_parts WHERE channel",
        "DELETE FROM early_receipts WHERE at",
        "INSERT INTO outbound_parts",
        "UPDATE outbound_parts",
    ):
        assert fragment in joined, fragment
