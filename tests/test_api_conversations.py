"""``POST /api/conversations``: a flow started by the business, its first reply through the outbox."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import db_rows
from tests.test_api_harness import OTHER_BUSINESS, Api

# The API fixtures (api, make_api, fake_twilio) live in the harness module.
pytest_plugins = ("tests.test_api_harness",)


async def test_start_at_a_state_with_variables_then_the_customer_answers(api: Api, db_path: Path) -> None:
    status, data = await api.post("/api/conversations", {
        "to": "+1 (555) 000-2001", "state": "order_ready", "variables": {"name": "Ann", "order": 42},
    })
    assert status == 201, data
    assert data["conversation"] == {
        "to": "+15550002001", "from": "+15555550100", "channel": "twilio", "flow": "shop",
        "state": "order_ready", "variables": {"name": "Ann", "order": "42"},
    }
    assert data["messages"] == [{"text": "Hi Ann, order 42 is ready. Reply 1 for hours.",
                                 "media": ["https://sms.example.com/media/pic.png"]}]
    assert api.fake.received == []  # queued, not sent in the request
    assert await api.outbox.run_once() == 1
    (sent,) = api.fake.received
    assert sent.form["To"] == ["+15550002001"] and sent.form["From"] == ["+15555550100"]
    assert sent.form["Body"] == ["Hi Ann, order 42 is ready. Reply 1 for hours."]
    assert sent.form["MediaUrl"] == ["https://sms.example.com/media/pic.png"]
    assert db_rows(db_path, "SELECT kind, origin, status FROM outbound") == [("conversation", "conversation", "sent")]
    # The customer's answer continues from the state the API put them in.
    answer = await api.phone("+15550002001").text("1")
    assert answer.body == "Open 8-6."


async def test_restart_moves_an_ongoing_conversation(api: Api, db_path: Path) -> None:
    phone = api.phone("+15550002002")
    await phone.text("hello")
    assert db_rows(db_path, "SELECT state FROM conversations") == [("menu",)]
    status, _ = await api.post("/api/conversations", {"to": phone.number, "state": "order_ready",
                                                          "variables": {"name": "Bo", "order": "7"}})
    assert status == 201
    assert db_rows(db_path, "SELECT state, variables FROM conversations") == [
        ("order_ready", '{"name": "Bo", "order": "7"}')
    ]


async def test_default_state_is_the_flow_start_and_from_picks_the_flow(api: Api) -> None:
    status, data = await api.post("/api/conversations", {"to": "+15550002003"})
    assert (status, data["conversation"]["state"], data["messages"][0]["text"]) == (201, "menu",
                                                                                   "Hi! Reply 1 for hours.")
    status, data = await api.post("/api/conversations", {"to": "+15550002003", "from": OTHER_BUSINESS})
    assert (status, data["conversation"]["flow"], data["messages"][0]["text"]) == (201, "other",
                                                                                   "Other line here.")


async def test_an_opted_out_number_is_never_texted(api: Api, db_path: Path) -> None:
    phone = api.phone("+15550002004")
    await phone.text("STOP")
    status, data = await api.post("/api/conversations", {"to": phone.number})
    assert (status, data["error"]["code"]) == (409, "opted_out")
    assert db_rows(db_path, "SELECT count(*) FROM outbound WHERE origin != ''") == [(0,)]
    assert db_rows(db_path, "SELECT count(*) FROM conversations") == [(0,)]
    await phone.text("START")
    status, _ = await api.post("/api/conversations", {"to": phone.number})
    assert status == 201


async def test_a_stop_after_queueing_suppresses_the_send(api: Api, db_path: Path) -> None:
    phone = api.phone("+15550002005")
    status, _ = await api.post("/api/conversations", {"to": phone.number})
    assert status == 201
    await phone.text("STOP")
    await api.outbox.run_once()
    assert api.fake.received == []
    assert db_rows(db_path, "SELECT status FROM outbound WHERE origin = 'conversation'") == [("suppressed",)]
