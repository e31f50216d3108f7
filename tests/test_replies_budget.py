"""Prepared replies against the segment budget, counted independently from the reference.

The counter below is written from carriers.md §10 (the GSM-7 tables, 160/153 septets,
70/67 UTF-16 units, an extension character or a surrogate pair never split), not from
bot.sms, so a wrong count in bot.sms cannot hide a reply over budget.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.flows import Settings
from bot.replies import MAX_BODY, prepare
from bot.sms import analyze, is_gsm7, smart_encode
from bot.types import Reply

MEDIA_BASE = "https://bot.example.com/media"

_BASIC = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
_EXTENSION = set("\f^{}\\[~]|€")


def reference_segments(text: str) -> int:
    """Segments of one SMS body, packing characters greedily (carriers.md §10.3)."""
    if all(char in _BASIC or char in _EXTENSION for char in text):
        costs = [2 if char in _EXTENSION else 1 for char in text]
        single, part = 160, 153
    else:
        costs = [2 if ord(char) > 0xFFFF else 1 for char in text]
        single, part = 70, 67
    if sum(costs) <= single:
        return 1
    segments, used = 1, 0
    for cost in costs:
        if used + cost > part:
            segments, used = segments + 1, 0
        used += cost
    return segments


def test_reference_counter_matches_published_vectors() -> None:
    assert reference_segments("1234567890" * 16) == 1
    assert reference_segments("1" * 161) == 2
    assert reference_segments("1" * 307) == 3
    assert reference_segments("€" + "1" * 158) == 1
    assert reference_segments("€" + "1" * 159) == 2
    assert reference_segments("\U0001f61c" + "1" * 68) == 1
    assert reference_segments("\U0001f61c" + "1" * 69) == 2
    assert reference_segments("\U0001f61c" + "1" * 133) == 3


@pytest.mark.parametrize("word", ["word", "w\u00f6rd", "fa\u00e7ade"])
def test_text_an_mms_body_cannot_hold_goes_on_as_sms_within_budget(word: str) -> None:
    # A broadcast may carry 1,600 characters plus its opt-out footer, with media, to an MMS
    # number. Only the first message carries the media; the rest are plain SMS and must keep
    # to max_segments like any other SMS ("ç" makes them UCS-2: 67 units per segment).
    text = " ".join([word] * (2000 // (len(word) + 1)))
    settings = Settings(max_segments=2)
    first, *rest = prepare([Reply(text, ("a.png",))], settings, mms=True, media_base=MEDIA_BASE)
    assert first.media == ("a.png",)
    assert 1500 < len(first.text) <= MAX_BODY  # the MMS body holds up to Twilio's 1,600 characters
    assert rest
    for reply in rest:
        assert reply.media == ()
        assert reference_segments(reply.text) <= settings.max_segments, reply.text
    assert " ".join(reply.text for reply in (first, *rest)) == text


def test_mms_body_of_only_whitespace_is_sent_as_media_alone() -> None:
    (reply,) = prepare([Reply(" \n ", ("a.png",))], Settings(), mms=True, media_base=MEDIA_BASE)
    assert reply == Reply("", ("a.png",))


def test_media_links_are_not_smart_encoded() -> None:
    # A look-alike swapped inside an address leads somewhere else: "–" is not "-" in a URL.
    url = "https://cdn.example.com/menu\u20132024/caf\u00e9\u2019s.pdf"
    (reply,) = prepare([Reply("It\u2019s here:", (url,))], Settings(), mms=False, media_base=MEDIA_BASE)
    assert reply.text == f"It\u2019s here:\n{url}"  # the link forces UCS-2, so the text is kept too
    (plain,) = prepare(
        [Reply("It\u2019s here:", ("https://cdn.example.com/menu.pdf",))], Settings(), mms=False, media_base=MEDIA_BASE
    )
    assert plain.text == "It's here:\nhttps://cdn.example.com/menu.pdf"


def test_each_message_is_smart_encoded_on_its_own() -> None:
    # Smart encoding applies when the whole *message* then fits GSM-7 (carriers.md §10.5), and
    # a long reply goes out as several messages: one emoji in the last must not keep a curly
    # apostrophe in every earlier one in UCS-2 (70 characters a segment instead of 160).
    sentence = "We\u2019re open \u2013 see you soon."
    text = " ".join([sentence] * 12) + " \U0001f642"
    parts = prepare([Reply(text)], Settings(max_segments=1), mms=False, media_base=MEDIA_BASE)
    *plain, last = parts
    assert plain
    for reply in plain:
        assert analyze(reply.text).encoding == "GSM-7", reply.text
        assert reference_segments(reply.text) <= 1
    assert last.text.endswith("\u2019re open \u2013 see you soon. \U0001f642")  # kept as written
    # Measured as the GSM-7 messages they are sent as, the first two hold 160 characters each
    # (not the 70 of UCS-2, which sent six messages): 325 characters go in three.
    assert len(parts) == 3
    plain_twins = str.maketrans({"\u2019": "'", "\u2013": "-"})
    assert " ".join(reply.text for reply in parts).translate(plain_twins) == text.translate(plain_twins)


def test_a_message_with_a_link_is_not_smart_encoded_on_its_own() -> None:
    # The prose before a link may be encoded message by message; the link never is.
    url = "https://cdn.example.com/caf\u00e9\u2019s.pdf"  # "é" is GSM-7, "’" is in the map
    text = " ".join(["It\u2019s our menu."] * 20)
    parts = prepare([Reply(text, (url,))], Settings(max_segments=1), mms=False, media_base=MEDIA_BASE)
    assert parts[-1].text.endswith(url)
    assert analyze(parts[0].text).encoding == "GSM-7"
    assert "".join(reply.text for reply in parts).count(url) == 1


_WORDS = st.sampled_from(
    [
        *("We\u2019re", "open", "\u2013", "soon.", "\U0001f642", "\n\n", "\u2026"),
        *("caf\u00e9", "\u00e7a", "{x}", "\u00a0", "\u200b"),
    ]
)


@settings(max_examples=150, deadline=None)
@given(st.lists(_WORDS, max_size=150).map(" ".join), st.integers(1, 3))
def test_every_sms_is_within_budget_and_smart_encoded_when_it_can_be(text: str, max_segments: int) -> None:
    for reply in prepare([Reply(text)], Settings(max_segments=max_segments), mms=False, media_base=MEDIA_BASE):
        assert reply.text and reply.text == reply.text.strip()
        assert len(reply.text) <= MAX_BODY
        assert reference_segments(reply.text) <= max_segments, reply.text
        twin = smart_encode(reply.text).strip()
        if not is_gsm7(reply.text) and twin and is_gsm7(twin):
            # Kept in UCS-2 although its twin is GSM-7: only because the twin is over budget.
            assert reference_segments(twin) > max_segments or len(twin) > MAX_BODY, reply.text
