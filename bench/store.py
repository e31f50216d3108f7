"""SQLite store: conversation turns with 1k vs 1M stored conversations.

Each size runs in a fresh child process (so peak memory is that size's own):

1. the store creates an empty database file (its real migrations), then the
   conversations are written straight with ``executemany`` in one
   transaction: per conversation a session row, its last inbound message and
   its reply (so the idempotency and log indexes are as deep as in a real
   database of that many conversations);
2. turns are run the way ``ConversationService.handle`` calls the store:
   ``processed`` (retry?), ``is_opted_out``, ``get_session``, then
   ``commit_turn`` with the new session and one reply; half the turns are
   from stored customers, half from new ones;
3. once one turn at a time (latency) and once with 32 turns in flight
   (throughput, as under webhook load; turns share one connection and its
   write lock, like the server).

Peak memory is the child's ``ru_maxrss`` (SQLite's page cache and Python
together) and ``tracemalloc``'s peak for Python objects during the turns.

Run: ``python3 -m bench.store [--sizes 1000,1000000] [--turns 3000] [--json PATH]``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import resource
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path
from typing import Any

from bench.report import table
from bot.store import SQLiteStore
from bot.types import ConversationKey, InboundMessage, Reply, Session

BUSINESS = "+15555550100"
CHANNEL = "twilio"


def customer(n: int) -> str:
    return f"+1555{n:07d}"


def populate(path: Path, count: int) -> float:
    """Write ``count`` conversations (session, inbound, reply) in one transaction; seconds taken."""
    started = time.perf_counter()
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    db.execute("BEGIN")
    now = 1_700_000_000.0
    db.executemany(
        "INSERT INTO conversations (channel, customer, business, flow, flow_version, state, variables, pending, "
        "created_at, updated_at) VALUES (?, ?, ?, 'retail', 'v1', 'menu', '{}', '[]', ?, ?)",
        ((CHANNEL, customer(n), BUSINESS, now, now + n % 3600) for n in range(count)),
    )
    db.executemany(
        "INSERT INTO inbound (channel, provider_id, customer, business, body, replies, decision, received_at) "
        "VALUES (?, ?, ?, ?, 'what are your hours', '[]', 'faq faq=store-hours', ?)",
        ((CHANNEL, f"SMold{n:030d}", customer(n), BUSINESS, now + n % 3600) for n in range(count)),
    )
    db.executemany(
        "INSERT INTO outbound (channel, in_reply_to, customer, business, body, created_at) "
        "VALUES (?, ?, ?, ?, 'Our stores are open Mon-Sat 9am-8pm.', ?)",
        ((CHANNEL, f"SMold{n:030d}", customer(n), BUSINESS, now + n % 3600) for n in range(count)),
    )
    db.execute("COMMIT")
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    return time.perf_counter() - started


async def turn(store: SQLiteStore, n: int, stored: int, sid: str, now: float) -> None:
    """One message through the store, in ConversationService.handle's order."""
    who = customer(n % stored) if n % 2 == 0 else customer(stored + n)
    message = InboundMessage(CHANNEL, sid, who, BUSINESS, "wat r ur hrs")
    key = ConversationKey(CHANNEL, who, BUSINESS)
    if await store.processed(CHANNEL, sid) is not None:
        raise AssertionError("fresh message ids only")
    await store.is_opted_out(who, BUSINESS)
    session = await store.get_session(key)
    created = session.created_at if session is not None else now
    new = Session(key, "retail", "v1", "hours", {}, (), created, now)
    await store.commit_turn(message, new, (Reply("Our stores are open Mon-Sat 9am-8pm."),), "faq store-hours", now)


async def measure(path: Path, stored: int, turns: int) -> dict[str, Any]:
    store = SQLiteStore(path)
    await store.open()
    rng = random.Random(8)
    picks = [rng.randrange(10**9) for _ in range(2 * turns)]
    try:
        tracemalloc.start()
        latencies = []
        for k in range(turns):  # one at a time
            started = time.perf_counter()
            await turn(store, picks[k], stored, f"SMseq{k:030d}", 1_800_000_000.0 + k)
            latencies.append(time.perf_counter() - started)
        in_flight = 32
        queue = list(range(turns, 2 * turns))

        async def worker() -> None:
            while queue:
                k = queue.pop()
                await turn(store, picks[k], stored, f"SMpar{k:030d}", 1_800_000_000.0 + k)

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(in_flight)))
        concurrent = time.perf_counter() - started
        _, python_peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    finally:
        await store.close()
    latencies.sort()
    return {
        "sequential_turns_per_s": round(turns / sum(latencies)),
        "turn_p50_ms": round(statistics.median(latencies) * 1e3, 3),
        "turn_p99_ms": round(latencies[int(0.99 * len(latencies))] * 1e3, 3),
        "concurrent_turns_per_s": round(turns / concurrent),
        "python_peak_mib": round(python_peak / 2**20, 1),
    }


def one(stored: int, turns: int, keep: Path | None) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="textdesk-bench-") as tmp:
        path = (keep or Path(tmp)) / f"store-{stored}.db"
        path.unlink(missing_ok=True)
        asyncio.run(_create(path))
        seconds = populate(path, stored)
        row: dict[str, Any] = {"conversations": stored, "populate_s": round(seconds, 1),
                               "rows_per_s": round(3 * stored / seconds)}
        row.update(asyncio.run(measure(path, stored, turns)))
        row["db_mib"] = round(path.stat().st_size / 2**20, 1)
        row["maxrss_mib"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
        return row


async def _create(path: Path) -> None:
    store = SQLiteStore(path)
    await store.open()
    await store.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000,1000000")
    parser.add_argument("--turns", type=int, default=3000, help="turns per mode (sequential, concurrent)")
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)  # child process: one size, JSON on stdout
    parser.add_argument("--keep", type=Path, help="put the databases here instead of a temporary folder")
    args = parser.parse_args(argv)
    if args.one is not None:
        print(json.dumps(one(args.one, args.turns, args.keep)))
        return 0
    results = []
    for size in (int(s) for s in args.sizes.split(",")):
        command = [sys.executable, "-m", "bench.store", "--one", str(size), "--turns", str(args.turns)]
        if args.keep:
            command += ["--keep", str(args.keep)]
        done = subprocess.run(command, check=True, capture_output=True, text=True)
        row = json.loads(done.stdout.strip().splitlines()[-1])
        print(f"{size} conversations: {row}", flush=True)
        results.append(row)
    columns = [
        ("conversations", "conversations"), ("db_mib", "db MiB"), ("populate_s", "populate s"),
        ("sequential_turns_per_s", "turns/s (1 at a time)"), ("turn_p50_ms", "p50 ms"), ("turn_p99_ms", "p99 ms"),
        ("concurrent_turns_per_s", "turns/s (32 in flight)"), ("maxrss_mib", "maxrss MiB"),
        ("python_peak_mib", "py peak MiB"),
    ]
    print()
    print(table(results, columns))
    if len(results) >= 2:
        first, last = results[0], results[-1]
        print(f"\n{last['conversations']} vs {first['conversations']} conversations: sequential x"
              f"{last['sequential_turns_per_s'] / first['sequential_turns_per_s']:.2f}, concurrent x"
              f"{last['concurrent_turns_per_s'] / first['concurrent_turns_per_s']:.2f}")
    if args.json:
        args.json.write_text(json.dumps({"benchmark": "store", "results": results}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
