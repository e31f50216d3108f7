"""FAQ matcher: textdesk's shortlist vs brute-force ``process.extractOne``, same run.

For each size (default 100, 1k and 10k phrasings, ``bench.corpus``) and the
same customer texts, this times per text, interleaved so machine noise hits
all alike:

- ``textdesk``: ``FaqIndex.match`` (vocabulary correction, shortlist, ranking);
- ``extractOne``: brute force with the same scorer (the index's
  ``CoverageScore``), cutoff (the floor) and already processed strings (the
  corrected query form and every phrasing's content words), as fast as
  rapidfuzz makes it: ``process.extract`` scores every phrasing by
  ``token_set_ratio`` in C, and only those reaching the floor are scored
  again by the coverage score (never higher than ``token_set_ratio``, so no
  phrasing is missed); the best, the first of equal scores, is what
  ``extractOne`` with that scorer returns. Its query preparation is not
  timed, which favours it;
- ``exhaustive``: ``FaqIndex.match_exhaustive``, textdesk's own rules by
  scoring every phrasing (the reference the shortlist must equal).

Agreement is reported three ways: the same FAQ as extractOne's best phrasing;
the same best score as extractOne (extractOne keeps the first of equal
scores, textdesk breaks ties by whole-text ratio, so same score with another
FAQ is a tie, not a miss); and a FaqMatch identical to the exhaustive one.

Run: ``python3 -m bench.matcher [--sizes 100,1000,10000] [--queries 300] [--json PATH]``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
import tracemalloc
from pathlib import Path
from typing import Any

from rapidfuzz import fuzz, process

from bench.corpus import faq_set, queries
from bench.report import table
from bot.matching.coverage import CoverageScore
from bot.matching.faq import FaqIndex
from bot.matching.normalize import normalize

THRESHOLD, MARGIN = 80, 5  # flows/retail.yaml's settings
EPSILON = 0.01  # process.extract may drop a pair scoring exactly a fractional cutoff


def brute_force(form: str, contents: list[str], scorer: CoverageScore, floor: float) -> tuple[float, int] | None:
    """(score, phrasing) of the best phrasing by ``scorer`` at or above ``floor``, the first of equal scores."""
    hits = process.extract(form, contents, scorer=fuzz.token_set_ratio, processor=None, limit=None,
                           score_cutoff=floor - EPSILON)
    best: tuple[float, int] | None = None
    for _, _, i in sorted(hits, key=lambda hit: hit[2]):
        score = scorer(form, contents[i])
        if score >= floor and (best is None or score > best[0]):
            best = (score, i)
    return best


def run_size(size: int, count: int, seed: int) -> dict[str, Any]:
    faqs = faq_set(size)
    tracemalloc.start()
    FaqIndex(faqs, THRESHOLD, MARGIN)  # once for its memory (tracemalloc slows the build)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    started = time.perf_counter()
    index = FaqIndex(faqs, THRESHOLD, MARGIN)
    build_ms = (time.perf_counter() - started) * 1e3
    contents = [index._contents[i] for i in range(len(index))]  # the processed phrasings
    faq_of = [index._faq_ids[i] for i in range(len(index))]
    texts = queries(faqs, count, seed=seed)
    ours: list[float] = []
    theirs: list[float] = []
    reference: list[float] = []
    same_faq = same_score = identical = compared = 0
    tie_only = 0
    intended = on_topic = off_topic_answered = off_topic = 0
    clock = time.perf_counter_ns
    for text in texts:
        norm = normalize(text.text)
        form = index.query_form(norm) if norm else ""
        t0 = clock()
        match = index.match(norm)
        t1 = clock()
        best = brute_force(form, contents, index.scorer, index.floor) if form else None
        t2 = clock()
        exhaustive = index.match_exhaustive(norm)
        t3 = clock()
        ours.append((t1 - t0) / 1e3)
        theirs.append((t2 - t1) / 1e3)
        reference.append((t3 - t2) / 1e3)
        identical += match == exhaustive
        if best is not None and match.best is not None:
            compared += 1
            faq_match = faq_of[best[1]] == match.best.faq_id
            score_match = best[0] == match.best.score
            same_faq += faq_match
            same_score += score_match
            tie_only += score_match and not faq_match
        elif best is None and match.best is None:
            compared += 1
            same_faq += 1
            same_score += 1
        if text.faq_id is None:
            off_topic += 1
            off_topic_answered += match.verdict == "answer"
        else:
            on_topic += 1
            ids = [c.faq_id for c in match.candidates]
            intended += (match.verdict == "answer" and ids[0] == text.faq_id) or (
                match.verdict == "ambiguous" and text.faq_id in ids
            )
    med = statistics.median
    return {
        "phrasings": len(index),
        "faqs": len(faqs),
        "queries": len(texts),
        "build_ms": round(build_ms, 1),
        "build_peak_mib": round(peak / 2**20, 1),
        "textdesk_us": round(med(ours), 1),
        "textdesk_p90_us": round(sorted(ours)[int(0.9 * len(ours))], 1),
        "extractone_us": round(med(theirs), 1),
        "exhaustive_us": round(med(reference), 1),
        "speedup_vs_extractone": round(med(theirs) / med(ours), 2),
        "same_faq_as_extractone": round(same_faq / compared, 4),
        "same_score_as_extractone": round(same_score / compared, 4),
        "equal_score_ties": tie_only,
        "identical_to_exhaustive": round(identical / len(texts), 4),
        "intended_faq_found": round(intended / max(on_topic, 1), 3),
        "off_topic_answered": off_topic_answered,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="100,1000,10000")
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--seed", type=int, default=88)
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args(argv)
    results = []
    for size in (int(s) for s in args.sizes.split(",")):
        row = run_size(size, args.queries, args.seed)
        print(f"{size} phrasings: textdesk {row['textdesk_us']} us, extractOne {row['extractone_us']} us", flush=True)
        results.append(row)
    columns = [
        ("phrasings", "phrasings"), ("build_ms", "build ms"), ("build_peak_mib", "build MiB"),
        ("textdesk_us", "textdesk med us"),
        ("extractone_us", "extractOne med us"), ("exhaustive_us", "exhaustive med us"),
        ("speedup_vs_extractone", "speedup x"), ("same_faq_as_extractone", "same FAQ"),
        ("same_score_as_extractone", "same score"), ("identical_to_exhaustive", "= exhaustive"),
        ("intended_faq_found", "intended FAQ"),
    ]
    print()
    print(table(results, columns))
    by_size = {r["phrasings"]: r for r in results}
    growth = {}
    if 1000 in by_size and 10000 in by_size:
        growth = {
            "textdesk": round(by_size[10000]["textdesk_us"] / by_size[1000]["textdesk_us"], 2),
            "extractone": round(by_size[10000]["extractone_us"] / by_size[1000]["extractone_us"], 2),
        }
        print(f"\nmedian time 1k -> 10k phrasings: textdesk x{growth['textdesk']}, extractOne x{growth['extractone']}"
              " (x10 would be linear)")
    if args.json:
        args.json.write_text(json.dumps({"benchmark": "matcher", "threshold": THRESHOLD, "margin": MARGIN,
                                         "results": results, "growth_1k_to_10k": growth}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
