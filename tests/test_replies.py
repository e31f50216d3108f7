"""Segment-aware replies, smart encoding, MMS fallback and media serving, end to end."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.flows import Settings
from bot.replies import prepare
from bot.sms import analyze
from bot.types import Reply
from tests.conftest import FLOWS, PUBLIC, AppFactory, Phone, db_rows

MEDIA_BASE = f"{PUBLIC}/media"


def test_smart_encoding_replaces_look_alikes_only_when_all_gsm() -> None:
    settings = Settings()
    (reply,) = prepare([Reply("We’re open – “9am…6pm”")], settings, mms=True, media_base=MEDIA_BASE)
    assert reply.text == 'We\'re open - "9am...6pm"'
    assert analyze(reply.text).encoding == "GSM-7"
    (kept,) = prepare([Reply("We’re open 🙂")], settings, mms=True, media_base=MEDIA_BASE)
    assert kept.text == "We’re open 🙂"
    (off,) = prepare([Reply("We’re open")], Settings(smart_encoding=False), mms=True, media_base=MEDIA_BASE)
    assert off.text == "We’re open"


def test_thousand_character_answer_is_split_in_order_within_budget() -> None:
    sentences = [f"Sentence number {i} explains one more detail of our policy." for i in range(18)]
    text = " ".join(sentences)
    assert 1000 <= len(text) <= 1100
    parts = prepare([Reply(text)], Settings(max_segments=2), mms=True, media_base=MEDIA_BASE)
    assert len(parts) > 1
    assert all(analyze(p.text).segments <= 2 for p in parts)
    assert " ".join(p.text for p in parts) == text
    # Cuts fall on sentence boundaries here.
    assert all(p.text.endswith(".") for p in parts)


def test_media_without_mms_becomes_links_within_budget() -> None:
    (reply,) = prepare(
        [Reply("Here it is:", ("summit-pack.png", "https://cdn.example.com/x.jpg"))],
        Settings(),
        mms=False,
        media_base=MEDIA_BASE,
    )
    assert reply.media == ()
    assert reply.text == f"Here it is:\n{MEDIA_BASE}/summit-pack.png\nhttps://cdn.example.com/x.jpg"
    assert analyze(reply.text).segments <= Settings().max_segments


async def test_non_us_customer_gets_media_as_link(make_client: AppFactory) -> None:
    client = await make_client()
    uk = Phone(client, "+447700900123")
    await uk.text("4")
    sent = await uk.text("2")
    assert sent.media == []
    assert sent.body.endswith(f"\n{MEDIA_BASE}/summit-pack.png")
    us = Phone(client, "+15550004001")
    await us.text("4")
    assert (await us.text("2")).media == [f"{MEDIA_BASE}/summit-pack.png"]


async def test_mms_prefixes_are_configurable_per_channel(make_client: AppFactory) -> None:
    client = await make_client(mms_prefixes={"*": ("+1",), "twilio": ()})
    us = Phone(client, "+15550004002")
    await us.text("4")
    assert (await us.text("2")).media == []


async def test_media_served_with_type_length_and_caching(make_client: AppFactory) -> None:
    client = await make_client()
    for name, content_type in (("summit-pack.png", "image/png"), ("summit-pack-demo.mp4", "video/mp4")):
        response = await client.get(f"/media/{name}")
        assert response.status == 200
        assert response.content_type == content_type
        body = await response.read()
        assert int(response.headers["Content-Length"]) == len(body) == (FLOWS / "media" / name).stat().st_size
        assert "max-age" in response.headers["Cache-Control"]
    head = await client.head("/media/summit-pack.png")
    assert head.status == 200
    for path in ("/media/missing.png", "/media/../retail.yaml", "/media/%2E%2E/retail.yaml", "/media/"):
        assert (await client.get(path)).status == 404, path


async def test_inbound_mms_is_recorded_and_routes_on_sent_photo(make_client: AppFactory, db_path: Path) -> None:
    client = await make_client()
    phone = Phone(client, "+15550004003")
    await phone.text("AGENT")
    media = "https://api.twilio.com/2010-04-01/Accounts/AC1/Messages/MM1/Media/ME1"
    sent = await phone.text("here u go", media=[media])
    assert sent.body.startswith("Got your photo")
    assert db_rows(db_path, "SELECT media, media_types FROM inbound WHERE body = 'here u go'") == [
        (f'["{media}"]', '["image/jpeg"]')
    ]


@pytest.mark.parametrize("mms", [True, False])
def test_a_reply_opening_with_a_marked_space_keeps_it(mms: bool) -> None:
    # " \u0301" is a spacing acute accent: the space is the mark's base, so trimming the reply
    # must not leave the mark on nothing, with or without a link that is not GSM-7 (the path
    # that smart-encodes message by message looked each message up in the str.strip()ped text).
    text = " \u0301 is an accent \u2019"
    (reply,) = prepare([Reply(text, ("https://cdn.example/\u00e7a.png",))], Settings(), mms=mms, media_base=MEDIA_BASE)
    assert reply.text.startswith(" \u0301 is an accent")
