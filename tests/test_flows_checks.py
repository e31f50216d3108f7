"""Whole-flow checks: compliance words and texts, segment budgets, MMS limits."""

from __future__ import annotations

import mimetypes
import os
from pathlib import Path

import pytest

from bot.flows import FlowLoadError, load_flow
from bot.flows.checks import media_type, reply_costs, variable_lengths
from tests.conftest import FLOWS


def write(tmp_path: Path, body: str, media: dict[str, int] | None = None) -> Path:
    (tmp_path / "media").mkdir(exist_ok=True)
    for name, size in (media or {}).items():
        (tmp_path / "media" / name).write_bytes(b"\0" * size)
    path = tmp_path / "shop.yaml"
    path.write_text(body)
    return path


def errors(path: Path) -> list[str]:
    with pytest.raises(FlowLoadError) as caught:
        load_flow(path)
    return [str(f).removeprefix(f"{path}:") for f in caught.value.findings]


def state(say: str, extra: str = "") -> str:
    return f"start: a\nstates:\n  a:\n    say: {say}\n{extra}    final: true\n"


def test_example_flow_passes_every_check() -> None:
    flow = load_flow(FLOWS / "retail.yaml")
    costs = reply_costs(flow)
    assert costs and all(c.segments <= flow.settings.segment_budget for c in costs)
    assert variable_lengths(flow) == {"order_number": 6}


def test_reply_over_budget_names_segments_and_offending_characters(tmp_path: Path) -> None:
    long_say = '"' + ("Our jacket is great 😀 " * 30).strip() + '"'
    path = write(tmp_path, "settings:\n  segment_budget: 2\n" + state(long_say))
    (message,) = errors(path)
    assert message.startswith("5:3: error: state 'a' costs ")
    assert "(UCS-2 because of '😀')" in message
    assert "over the flow's segment_budget of 2" in message


def test_curly_quotes_are_costed_after_smart_encoding(tmp_path: Path) -> None:
    say = '"' + "It’s “fine”. " * 11 + '"'  # GSM-7 after replacement: under 160 characters
    flow = load_flow(write(tmp_path, "settings:\n  segment_budget: 1\n  max_segments: 1\n" + state(say)))
    (cost,) = [c for c in reply_costs(flow) if c.label == "state 'a'"]
    assert cost.info.encoding == "GSM-7" and cost.segments == 1
    path = write(tmp_path, "settings:\n  segment_budget: 1\n  max_segments: 1\n  smart_encoding: false\n" + state(say))
    assert any("costs 3 segments (UCS-2 because of '’', '“', '”')" in e for e in errors(path))


def test_costs_are_what_the_replies_send_with_one_emoji_at_the_end(tmp_path: Path) -> None:
    # The whole reply cannot be GSM-7 (the emoji), but each message is encoded on
    # its own when it is sent (bot.replies): the cost must be what goes out.
    from bot.replies import prepare
    from bot.sms import analyze
    from bot.types import Reply

    say = "It’s “fine”, we promise. " * 12 + "See you soon 🙂"
    flow = load_flow(write(tmp_path, "settings:\n  max_segments: 1\n" + state(f'"{say}"')))
    (cost,) = [c for c in reply_costs(flow) if c.label == "state 'a'"]
    sent = prepare((Reply(say),), flow.settings, False, "")
    assert (cost.parts, cost.segments) == (len(sent), sum(analyze(r.text).segments for r in sent))
    assert cost.parts < 6  # UCS-2 sized pieces throughout would be 6


def test_templates_are_costed_with_longest_values(tmp_path: Path) -> None:
    body = (
        "settings:\n  segment_budget: 1\n  max_segments: 1\n"
        "variables:\n  name: 150\n"
        "start: a\nstates:\n  a:\n    say: Hi\n    choices:\n      - pattern: '(?P<code>\\d{4})'\n        go: b\n"
        "  b:\n    say: 'Code {code} for {name}'\n    final: true\n"
    )
    (message,) = errors(write(tmp_path, body))
    assert "state 'b' costs 2 segments" in message


@pytest.mark.parametrize("word", ["STOP", "Cancel", "start", "HELP"])
def test_reserved_words_in_global_keywords(tmp_path: Path, word: str) -> None:
    body = f"global:\n  - keywords: ['{word}']\n    go: a\n" + state("Hi")
    assert errors(write(tmp_path, body)) == [
        f"2:5: error: keyword '{word}' is reserved for opt-out, opt-in and HELP handling, which runs before any "
        "flow and can never be removed; choose another word"
    ]


def test_flow_may_add_compliance_keywords_and_they_become_reserved(tmp_path: Path) -> None:
    body = "compliance:\n  opt_out: [ARRET]\nglobal:\n  - keywords: [arret]\n    go: a\n" + state("Hi")
    (message,) = errors(write(tmp_path, body))
    assert "keyword 'arret' is reserved" in message
    ok = load_flow(write(tmp_path, "compliance:\n  opt_out: [ARRET]\n" + state("Hi")))
    assert ok.compliance.opt_out == ("ARRET",)


def test_flow_cannot_turn_stop_into_an_opt_in(tmp_path: Path) -> None:
    (message,) = errors(write(tmp_path, "compliance:\n  opt_in: [STOP]\n" + state("Hi")))
    assert message.startswith("2:3: error: compliance keywords: ")


def test_help_and_opt_out_texts_must_keep_required_content(tmp_path: Path) -> None:
    body = "settings:\n  help: Call us!\n  opt_out_reply: Bye.\n" + state("Hi")
    assert errors(write(tmp_path, body)) == [
        "2:9: error: the 'help' text must say how to opt out, e.g. 'Reply STOP to opt out'",
        "3:18: error: the 'opt_out_reply' must say how to resubscribe, e.g. 'Reply START to resubscribe'",
    ]


def media_state(items: list[str]) -> str:
    listed = ", ".join(items)
    return state("Look", f"    media: [{listed}]\n")


def test_media_limits_one_by_one(tmp_path: Path) -> None:
    # Too many items.
    many = {f"p{i}.png": 10 for i in range(11)}
    (message,) = errors(write(tmp_path, media_state(list(many)), many))
    assert message == "3:3: error: state 'a' has 11 media; at most 10 per message"
    # Unknown or unaccepted type.
    (message,) = errors(write(tmp_path, media_state(["notes.txt"]), {"notes.txt": 10}))
    assert "media 'notes.txt' has content type text/plain, which carriers do not accept" in message
    # A non-image over 600 KB.
    (message,) = errors(write(tmp_path, media_state(["clip.mp4"]), {"clip.mp4": 601 * 1024}))
    assert "media 'clip.mp4' is 601 KB; non-image media must be at most 600 KB" in message
    # Images adding up to more than 5 MB.
    big = {"a.jpg": 3 * 1024 * 1024, "b.jpg": 3 * 1024 * 1024}
    (message,) = errors(write(tmp_path, media_state(list(big)), big))
    assert "media add up to 6144 KB; at most 5120 KB per message" in message
    # An https URL of an accepted type is fine; its size is the carrier's to check.
    load_flow(write(tmp_path, media_state(["https://cdn.example.com/a.jpg"])))


def test_media_types_are_the_same_on_every_machine(tmp_path: Path) -> None:
    # By extension, not by this machine's /etc/mime.types: Python alone maps .3gp to
    # audio/3gpp and .amr to audio/AMR, and knows .m4a and .ogg only from that file.
    files = {"clip.3gp": 10, "voice.amr": 10, "song.m4a": 10, "note.ogg": 10, "CARD.VCF": 10, "a.jpeg": 10}
    flow = load_flow(write(tmp_path, media_state(list(files)), files))
    assert [media_type(m) for m in flow.states["a"].media] == [
        "video/3gpp", "audio/amr", "audio/mp4", "audio/ogg", "text/vcard", "image/jpeg"
    ]
    # /media serves them with those types (aiohttp's FileResponse asks mimetypes).
    assert [mimetypes.guess_type(name)[0] for name in files] == [media_type(name) for name in files]
    assert media_type("https://cdn.example.com/a.mp4?v=2#t=1") == "video/mp4"
    assert media_type("notes.txt") is None


def test_sent_route_values(tmp_path: Path) -> None:
    body = "start: a\nstates:\n  a:\n    say: Hi\n    choices:\n      - sent: selfie\n        go: a\n"
    (message,) = errors(write(tmp_path, body))
    assert message == "6:15: error: 'sent' should be one of photo, video, audio, media, got 'selfie'"


def test_media_dir_permissions_do_not_matter_for_urls(tmp_path: Path) -> None:
    path = write(tmp_path, media_state(["https://cdn.example.com/a.gif"]))
    os.chmod(tmp_path / "media", 0o700)
    assert load_flow(path).states["a"].media == ("https://cdn.example.com/a.gif",)
