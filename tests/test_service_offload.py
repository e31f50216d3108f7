"""Long texts against big FAQ sets are matched off the event loop (bot/service.py).

Observed through the FAQ index's own memo: when the service matched the text
on a worker thread first, the engine's match is a memo hit; when it did not,
the engine's match is the first (a miss). Real server, real flow files, real
SQLite file.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from bot.service import OFFLOAD_WORK
from bot.web.keys import SERVICE
from tests.conftest import FLOWS, AppFactory, Phone

TOPICS = ["tent", "daypack", "jacket", "boot", "stove", "lantern", "hammock", "kayak", "paddle", "sleeping bag"]
TRAITS = ["weigh", "cost", "waterproof", "come in blue", "have a warranty"]


def big_flows(folder: Path, faqs: int) -> Path:
    """The example flow with ``faqs`` more FAQs (5 phrasings each) appended to its list."""
    shutil.copytree(FLOWS, folder, ignore=shutil.ignore_patterns("tests"))
    lines = []
    for n in range(faqs):
        topic, trait = TOPICS[n % len(TOPICS)], TRAITS[(n // len(TOPICS)) % len(TRAITS)]
        model = f"model{n}"
        lines += [
            f"  - id: gen-{n}",
            f"    question: Does the {model} {topic} {trait}?",
            "    also:",
            *(f"      - {p}" for p in (f"{model} {topic} {trait}", f"does {model} {trait}",
                                     f"{topic} {model} {trait} question", f"tell me if the {model} {trait}")),
            f'    answer: "About the {model} {topic}: yes."',
            "",
        ]
    with (folder / "retail.yaml").open("a", encoding="utf-8") as out:
        out.write("\n" + "\n".join(lines))
    return folder


async def test_a_long_text_on_a_big_faq_set_is_matched_off_the_loop(make_client: AppFactory, tmp_path: Path) -> None:
    client = await make_client(flows_dir=big_flows(tmp_path / "flows", 300))
    index = client.server.app[SERVICE]._runtimes["retail"].engine.faq_index
    assert len(index) >= 1_500
    phone = Phone(client, "+15550008001")
    await phone.text("hi")  # leave the menu's first turn behind
    long_text = ("Hello again, I was wondering about the model7 kayak, does the model7 kayak weigh much? " * 20)[:1_500]
    assert len(index) * len(long_text) >= OFFLOAD_WORK
    before = index.memo_info()
    sent = await phone.text(long_text)
    after = index.memo_info()
    assert "model7 kayak" in sent.messages[0][0]
    # Matched twice: once on the worker thread (the miss), once by the engine (the hit).
    assert (after.misses - before.misses, after.hits - before.hits) == (1, 1)


async def test_a_short_text_is_matched_in_place(make_client: AppFactory, tmp_path: Path) -> None:
    client = await make_client(flows_dir=big_flows(tmp_path / "flows", 300))
    index = client.server.app[SERVICE]._runtimes["retail"].engine.faq_index
    phone = Phone(client, "+15550008002")
    await phone.text("hi")
    short = "does the model7 kayak weigh much"
    assert len(index) * len(short) < OFFLOAD_WORK
    before = index.memo_info()
    sent = await phone.text(short)
    after = index.memo_info()
    assert "model7 kayak" in sent.messages[0][0]
    assert (after.misses - before.misses, after.hits - before.hits) == (1, 0)
