"""SQLite store: conversation turns with 1k vs 1M stored conversations.

Each size runs in a fresh child process (so peak memory is that size's own):

1. the store creates an empty database file (its real migrations), then the
   conversations are written straight with ``executemany`` in one
   transaction: per conversation a session row, its last inbound message and
   its reply (so the idempotency and log indexes are as deep as in a real
   database of that many conversations);
2. turns are run the way ``ConversationService.handle`` calls the store:
   ``load_turn`` (the claim, consent and session in one read), then
   ``commit_turn`` with the new session and one reply; half the turns are
   from stored customers, half from new ones;
3. once one turn at a time (latency) and once with 32 turns in flight
   (throughput, as under webhook load: the turns in flight share trips to
   SQLite's thread and group commits, like the server's).

Peak memory is the child's ``ru_maxrss`` (SQLite's page cache and Python
together) and ``tracemalloc``'s peak for Python objects during the turns.

Each size is populated once; then ``--rounds`` (3) alternating rounds each
measure every size in a child pinned to core 0, on a fresh copy of its
database; medians and the median of the per-round ratios are reported.

Run: ``python3 -m bench.store [--sizes 1000,1000000] [--turns 3000] [--rounds 3] [--json PATH]``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import resource
import shutil
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

# Pinned to one core as the server is in bench.webhook, when taskset exists.
PIN = ["taskset", "-c", "0"] if shutil.which("taskset") else []
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
    loaded = await store.load_turn(message)
    if loaded.processed is not None:
        raise AssertionError("fresh message ids only")
    session = loaded.session
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


def one(stored: int, turns: int, path: Path) -> dict[str, Any]:
    """Child process: measure turns on a copy of a populated database."""
    row: dict[str, Any] = {"conversations": stored}
    row.update(asyncio.run(measure(path, stored, turns)))
    row["maxrss_mib"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    return row


def prepare(folder: Path, stored: int) -> tuple[Path, float]:
    path = folder / f"store-{stored}.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    asyncio.run(_create(path))
    return path, populate(path, stored)


async def _create(path: Path) -> None:
    store = SQLiteStore(path)
    await store.open()
    await store.close()


def _medians(rows: list[dict[str, Any]]) -> dict[str, Any]:
    return {key: statistics.median(r[key] for r in rows) for key in rows[0]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000,1000000")
    parser.add_argument("--turns", type=int, default=3000, help="turns per mode (sequential, concurrent)")
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds (medians are reported)")
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)  # child process: one size, JSON on stdout
    parser.add_argument("--db", type=Path, help=argparse.SUPPRESS)  # child process: the copy to measure
    parser.add_argument("--keep", type=Path, help="put the databases here instead of a temporary folder")
    args = parser.parse_args(argv)
    if args.one is not None:
        print(json.dumps(one(args.one, args.turns, args.db)))
        return 0
    sizes = [int(s) for s in args.sizes.split(",")]
    with tempfile.TemporaryDirectory(prefix="textdesk-bench-") as tmp:
        folder = args.keep or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        bases = {}
        for size in sizes:
            path, seconds = prepare(folder, size)
            bases[size] = path
            print(f"{size} conversations: populated in {seconds:.1f}s, {path.stat().st_size / 2**20:.1f} MiB",
                  flush=True)
        runs: dict[int, list[dict[str, Any]]] = {size: [] for size in sizes}
        for round_ in range(args.rounds):
            for size in sizes:  # alternating, so the machine's noise falls on every size alike
                work = folder / "run.db"
                for suffix in ("-wal", "-shm"):
                    Path(f"{work}{suffix}").unlink(missing_ok=True)
                shutil.copyfile(bases[size], work)
                command = [*PIN, sys.executable, "-m", "bench.store", "--one", str(size),
                           "--turns", str(args.turns), "--db", str(work)]
                done = subprocess.run(command, check=True, capture_output=True, text=True)
                row = json.loads(done.stdout.strip().splitlines()[-1])
                row["db_mib"] = round(bases[size].stat().st_size / 2**20, 1)
                print(f"round {round_ + 1}, {size} conversations: {row}", flush=True)
                runs[size].append(row)
    results = [_medians(runs[size]) for size in sizes]
    columns = [
        ("conversations", "conversations"), ("db_mib", "db MiB"),
        ("sequential_turns_per_s", "turns/s (1 at a time)"), ("turn_p50_ms", "p50 ms"), ("turn_p99_ms", "p99 ms"),
        ("concurrent_turns_per_s", "turns/s (32 in flight)"), ("maxrss_mib", "maxrss MiB"),
        ("python_peak_mib", "py peak MiB"),
    ]
    print()
    print(table(results, columns))
    ratios: dict[str, list[float]] = {}
    if len(sizes) >= 2:
        small, large = runs[sizes[0]], runs[sizes[-1]]
        for mode in ("sequential_turns_per_s", "concurrent_turns_per_s"):
            ratios[mode] = [round(b[mode] / a[mode], 3) for a, b in zip(small, large, strict=True)]
        print(f"\n{sizes[-1]} vs {sizes[0]} conversations, median of {args.rounds} alternating rounds: "
              f"sequential x{statistics.median(ratios['sequential_turns_per_s']):.2f} "
              f"(rounds {ratios['sequential_turns_per_s']}), concurrent "
              f"x{statistics.median(ratios['concurrent_turns_per_s']):.2f} "
              f"(rounds {ratios['concurrent_turns_per_s']})")
    if args.json:
        report = {"benchmark": "store", "results": results, "rounds": runs, "ratios": ratios}
        args.json.write_text(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
