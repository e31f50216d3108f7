"""Instructions per webhook, counted by valgrind: a CPU measure the machine's noise cannot move.

``bench.hotpath`` times the main thread, and on a shared machine its
repetitions still spread by 10% or more: too much to see a change worth 2%.
This counts the instructions instead, with valgrind's callgrind (which runs
every thread of the process one at a time and counts what each executes): the
same work gives the same count to within about 1% (the event loop's batching
varies a little from run to run), whatever else the machine is doing.

It runs ``bench.hotpath`` twice under callgrind, with N and 2N measured
requests, and reports (count(2N) - count(N)) / N: start-up, imports, loading
the flows and building the requests cancel out, and what is left is the cost
of one webhook, the SQLite thread's included (``--store memory`` leaves the
store out). To compare two versions, run it in each tree (it imports ``bot``
from the current directory).

Run: ``python3 -m bench.instructions [--requests 1000] [--store memory]``
(about a minute per run under valgrind; needs ``apt-get install valgrind``).
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def count(requests: int, store: str, out: Path, bare: bool = False) -> int:
    """Instructions callgrind counted for one ``bench.hotpath`` run of ``requests`` requests."""
    command = [
        "valgrind", "--tool=callgrind", f"--callgrind-out-file={out}",
        sys.executable, "-m", "bench.hotpath", "--reps", "1", "--requests", str(requests),
        "--warmup", "200", "--connections", "8", "--store", store, *(["--bare"] if bare else []),
    ]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
    found = re.search(r"Collected : (\d+)", done.stderr)
    if done.returncode != 0 or found is None:
        raise SystemExit(f"valgrind run failed ({done.returncode}):\n{done.stderr[-2000:]}")
    return int(found.group(1))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=1000, help="N: the runs measure N and 2N requests")
    parser.add_argument("--store", choices=("sqlite", "memory"), default="sqlite")
    parser.add_argument("--bare", action="store_true", help="count bench.bare_app's requests instead")
    parser.add_argument("--json", action="store_true", help="one JSON line of results")
    args = parser.parse_args(argv)
    if args.requests < 100:
        parser.error("--requests must be at least 100")
    if shutil.which("valgrind") is None:
        parser.error("valgrind is not installed (apt-get install valgrind)")
    with tempfile.TemporaryDirectory(prefix="textdesk-instructions-") as tmp:
        small = count(args.requests, args.store, Path(tmp) / "small.out", args.bare)
        large = count(2 * args.requests, args.store, Path(tmp) / "large.out", args.bare)
    per_request = (large - small) / args.requests
    what = "bare app" if args.bare else f"{args.store} store"
    result = {"instructions_per_request": round(per_request), "store": args.store, "bare": args.bare,
              "requests": args.requests, "counted": [small, large]}
    if args.json:
        print(json.dumps(result))
    else:
        print(f"instructions per webhook ({what}): {per_request / 1e6:.3f} M "
              f"(runs of {args.requests} and {2 * args.requests} requests: {small:,} and {large:,})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
