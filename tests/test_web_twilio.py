"""The Twilio webhook end to end: real server on loopback, real SQLite file, real flows."""

from __future__ import annotations

import asyncio
import json
import xml.etree.ElementTree as ET
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from twilio.request_validator import RequestValidator

from bot.carriers.twilio import TwilioCarrier, render_twiml
from bot.clock import VirtualClock
from bot.types import Reply
from tests.conftest import FLOWS, PUBLIC, TOKEN, AppFactory, Phone, db_rows, new_sid

MENU_START = "Hi from Acme Outfitters! Reply with a number:"


async def test_whole_conversation_with_mms_media_fetched_from_server(make_client: AppFactory) -> None:
    client = await make_client()
    phone = Phone(client, "+15550001001")

    first = await phone.text("hi")
    assert first.body.startswith(MENU_START)
    assert first.media == []

    demo = await phone.text("4")
    assert "TrailLite" in demo.body

    jacket = await phone.text("1")
    assert jacket.media == [f"{PUBLIC}/media/traillite-jacket.png"]
    fetched = await client.get(urlsplit(jacket.media[0]).path)
    assert fetched.status == 200
    assert fetched.content_type == "image/png"
    assert await fetched.read() == (FLOWS / "media" / "traillite-jacket.png").read_bytes()

    clip = await phone.text("MENU")
    assert clip.body.startswith(MENU_START)
    await phone.text("4")
    video = await phone.text("3")
    assert video.media == [f"{PUBLIC}/media/summit-pack-demo.mp4"]
    fetched = await client.get(urlsplit(video.media[0]).path)
    assert fetched.status == 200
    assert fetched.content_type == "video/mp4"

    await phone.text("menu")
    ask = await phone.text("3")
    assert "order number" in ask.body
    wrong = await phone.text("it's 12345")
    assert "AC followed by 6 digits" in wrong.body
    found = await phone.text("my order is ac-654321 thx")
    assert "Order AC-654321" in found.body

    person = await phone.text("AGENT")
    assert "team" in person.body.lower()


async def test_conversation_is_remembered_in_sqlite(make_client: AppFactory, db_path: Path) -> None:
    client = await make_client()
    phone = Phone(client, "+15550001002")
    await phone.text("3")
    await phone.text("AC-111222")
    rows = db_rows(db_path, "SELECT state, variables, flow FROM conversations WHERE customer = ?", phone.number)
    assert rows == [("order_found", '{"order_number": "111222"}', "retail")]
    inbound = db_rows(db_path, "SELECT body, provider_id FROM inbound ORDER BY received_at, rowid")
    assert [body for body, _ in inbound] == ["3", "AC-111222"]
    outbound = db_rows(db_path, "SELECT in_reply_to, body FROM outbound ORDER BY id")
    assert [sid for sid, _ in outbound] == [sid for _, sid in inbound]
    assert "AC-111222" in outbound[1][1]


async def test_faq_hits_with_typos_and_shorthand(make_client: AppFactory) -> None:
    client = await make_client()
    phone = Phone(client, "+15550001003")
    assert "Mon-Sat 9am-8pm" in (await phone.text("WAT R UR HRS??")).body
    assert "Canada" in (await phone.text("do u ship to canadaaa 🇨🇦")).body
    assert "60 days" in (await phone.text("whats ur retrun policy")).body


async def test_did_you_mean_then_numbered_follow_up(make_client: AppFactory) -> None:
    client = await make_client()
    phone = Phone(client, "+15550001004")
    question = await phone.text("shipping?")
    lines = question.body.splitlines()
    assert lines[0] == "Did you mean:"
    assert lines[1].startswith("1) ") and lines[2].startswith("2) ")
    assert lines[3] == "Reply 1 or 2."
    second_question = lines[2][3:]
    answer = await phone.text("2")
    assert answer.body != question.body
    assert "Did you mean" not in answer.body
    # The chosen FAQ's answer is the one a direct question gets.
    direct = await Phone(client, "+15550001005").text(second_question)
    assert answer.body == direct.body


async def test_forged_or_missing_signature_is_403_and_nothing_recorded(
    make_client: AppFactory, db_path: Path
) -> None:
    client = await make_client()
    phone = Phone(client, "+15550001006")
    params = phone.params("hi")
    forged = RequestValidator("not-the-token").compute_signature(phone.url(), params)
    assert (await phone.post(params, signature=forged)).status == 403
    assert (await phone.post(params, signature="")).status == 403
    tampered = dict(params)
    good = RequestValidator(TOKEN).compute_signature(phone.url(), params)
    tampered["Body"] = "AGENT"
    sent = await phone.post(tampered, signature=good)
    assert sent.status == 403
    assert "bad_signature" in sent.text
    assert db_rows(db_path, "SELECT count(*) FROM inbound") == [(0,)]
    assert db_rows(db_path, "SELECT count(*) FROM conversations") == [(0,)]


async def test_signature_with_default_port_variant_is_accepted(make_client: AppFactory) -> None:
    client = await make_client()
    phone = Phone(client, "+15550001007")
    params = phone.params("hi")
    with_port = RequestValidator(TOKEN).compute_signature("https://sms.example.com:443/webhooks/twilio", params)
    sent = await phone.post(params, signature=with_port)
    assert sent.status == 200


async def test_public_url_derived_from_request_when_not_configured(make_client: AppFactory) -> None:
    client = await make_client(public_url="")
    phone = Phone(client, "+15550001008", public=None)
    sent = await phone.text("1")
    assert "Mon-Sat" in sent.body
    # Signed for the configured-style public URL instead: refused.
    wrong = Phone(client, "+15550001008")
    assert (await wrong.post(wrong.params("1"))).status == 403


async def test_duplicate_message_sid_returns_stored_reply_without_advancing(
    make_client: AppFactory, db_path: Path
) -> None:
    client = await make_client()
    phone = Phone(client, "+15550001009")
    sid = new_sid()
    first = await phone.text("3", sid=sid)
    again = await phone.text("3", sid=sid)
    assert again.text == first.text
    # Even a retry whose body differs (it cannot, from Twilio) does not advance.
    third = await phone.text("1", sid=sid)
    assert third.text == first.text
    assert db_rows(db_path, "SELECT state FROM conversations") == [("order_ask",)]
    assert db_rows(db_path, "SELECT count(*) FROM inbound") == [(1,)]
    assert db_rows(db_path, "SELECT count(*) FROM outbound") == [(1,)]


async def test_idle_conversation_restarts_with_welcome_back(make_client: AppFactory, clock: VirtualClock) -> None:
    client = await make_client()
    phone = Phone(client, "+15550001010")
    await phone.text("3")
    clock.advance(29 * 60)
    still = await phone.text("hello?")
    assert still.body.startswith("Sure! What's your order number?")  # same state: a greeting gets its question again
    clock.advance(30 * 60 + 1)
    back = await phone.text("hello?")
    assert back.body.startswith("Welcome back to Acme Outfitters!")
    assert MENU_START in back.body
    # After a restart the menu's choices apply again.
    assert "Mon-Sat" in (await phone.text("1")).body


async def test_idle_restart_still_answers_a_clear_question(make_client: AppFactory, clock: VirtualClock) -> None:
    client = await make_client()
    phone = Phone(client, "+15550001011")
    await phone.text("3")
    clock.advance(2 * 3600)
    back = await phone.text("do you ship to canada")
    assert back.body.startswith("Welcome back to Acme Outfitters!")
    assert "Canada" in back.body
    assert MENU_START not in back.body


async def test_healthz(make_client: AppFactory) -> None:
    client = await make_client()
    response = await client.get("/healthz")
    assert response.status == 200
    assert await response.json() == {"status": "ok", "flows": ["retail"], "database": "ok"}


async def test_media_outside_folder_is_not_served(make_client: AppFactory) -> None:
    client = await make_client()
    for path in ("/media/../retail.yaml", "/media/%2e%2e/retail.yaml", "/media/nope.png"):
        response = await client.get(path)
        assert response.status in (403, 404), path


async def test_reply_text_is_xml_escaped_and_empty_reply_is_empty_response(
    make_client: AppFactory, tmp_path: Path
) -> None:
    flows = tmp_path / "flows"
    flows.mkdir()
    (flows / "tiny.yaml").write_text(
        "start: a\n"
        "states:\n"
        "  a:\n"
        "    say: \"Tom & Jerry <3 ]]> 'quoted'\"\n"
        "    choices:\n"
        "      - keywords: [quiet]\n"
        "        go: silent\n"
        "  silent:\n"
        "    final: true\n"
    )
    client = await make_client(flows_dir=flows)
    phone = Phone(client, "+15550001012")
    sent = await phone.text("hey")
    assert "Tom &amp; Jerry &lt;3 ]]&gt;" in sent.text
    assert sent.body == "Tom & Jerry <3 ]]> 'quoted'"
    silent = await phone.text("quiet")
    assert silent.text == '<?xml version="1.0" encoding="UTF-8"?><Response/>'
    assert silent.messages == []


async def test_concurrent_customers_each_get_their_own_conversation(
    make_client: AppFactory, db_path: Path
) -> None:
    client = await make_client()

    async def customer(n: int) -> list[str]:
        phone = Phone(client, f"+1555100{n:04d}")
        bodies = []
        for text in ("3", f"AC-{n:06d}", "MENU", "1"):
            bodies.append((await phone.text(text)).body)
        return bodies

    results = await asyncio.gather(*(customer(n) for n in range(40)))
    for n, bodies in enumerate(results):
        assert f"Order AC-{n:06d}" in bodies[1]
        assert bodies[2].startswith(MENU_START)
        assert "Mon-Sat" in bodies[3]
    assert db_rows(db_path, "SELECT count(*) FROM inbound") == [(160,)]
    assert db_rows(db_path, "SELECT count(DISTINCT state) FROM conversations") == [(1,)]


async def test_one_customers_concurrent_messages_are_handled_one_at_a_time_in_order(
    make_client: AppFactory, db_path: Path
) -> None:
    client = await make_client()
    phone = Phone(client, "+15550001013")
    texts = ["3", "AC-000001", "MENU", "3", "AC-000002", "4", "1", "MENU", "2", "AGENT"] * 3
    sent = await asyncio.gather(*(phone.text(t) for t in texts))
    assert all(len(s.messages) == 1 for s in sent)
    # Whatever order the requests reached the server in, replaying the logged
    # order through a fresh conversation gives the same replies and final state.
    logged = db_rows(db_path, "SELECT body, replies FROM inbound ORDER BY received_at, rowid")
    assert len(logged) == len(texts)
    replay = Phone(client, "+15550009999")
    for body, replies in logged:
        again = await replay.text(body)
        assert [again.body] == [r["text"] for r in json.loads(replies)]
    final = db_rows(db_path, "SELECT customer, state, variables FROM conversations ORDER BY customer")
    assert final[0][1:] == final[1][1:]


async def test_inbound_mms_from_customer_is_logged(make_client: AppFactory, db_path: Path) -> None:
    client = await make_client()
    phone = Phone(client, "+15550001014")
    media = ["https://api.twilio.com/2010-04-01/Accounts/AC1/Messages/MM1/Media/ME1"]
    await phone.text("", media=media)
    assert db_rows(db_path, "SELECT media FROM inbound") == [(f'["{media[0]}"]',)]


@pytest.mark.parametrize(
    ("extra", "named"),
    [
        ({"TEXTDESK_TWILIO_REPLIES": "bogus"}, "TEXTDESK_TWILIO_REPLIES"),
        ({"TEXTDESK_TWILIO_REPLIES": "REST"}, "TWILIO_ACCOUNT_SID"),  # REST replies need the account
        ({"TWILIO_API_BASE_URL": "ftp://api.twilio.com"}, "TWILIO_API_BASE_URL"),
        ({"TWILIO_STATUS_URL": "sms.example.com/status"}, "TWILIO_STATUS_URL"),
    ],
)
def test_twilio_settings_are_checked_at_start(extra: dict[str, str], named: str) -> None:
    # A typo must not quietly pick another reply path or an unusable URL.
    with pytest.raises(ValueError, match=named):
        TwilioCarrier.from_env({"TWILIO_AUTH_TOKEN": TOKEN, **extra})


def test_twilio_settings_that_are_fine() -> None:
    assert TwilioCarrier.from_env({}) is None
    twiml = TwilioCarrier.from_env({"TWILIO_AUTH_TOKEN": TOKEN, "TEXTDESK_TWILIO_REPLIES": " TwiML "})
    assert twiml is not None and twiml.sync_replies
    rest = TwilioCarrier.from_env({"TWILIO_AUTH_TOKEN": TOKEN, "TEXTDESK_TWILIO_REPLIES": "rest",
                                   "TWILIO_ACCOUNT_SID": "AC" + "1" * 32})
    assert rest is not None and not rest.sync_replies


def test_twiml_keeps_carriage_returns() -> None:
    # An XML parser reads a literal CR or CRLF as LF; the text must reach Twilio as written.
    body = render_twiml([Reply("Hours:\r\nMon-Fri\rSat & <more>")], PUBLIC + "/media")
    root = ET.fromstring(body.encode())
    assert [m.findtext("Body") for m in root.findall("Message")] == ["Hours:\r\nMon-Fri\rSat & <more>"]
