"""Audiences: joining by texting a flow keyword, and the subscribers API."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.flows import FlowLoadError, load_flow_text
from bot.web.keys import SERVICE
from tests.conftest import db_rows
from tests.test_api_harness import BUSINESS, Api

DEALS = "/api/audiences/deals/subscribers"

# The API fixtures (api, make_api, fake_twilio) live in the harness module.
pytest_plugins = ("tests.test_api_harness",)


async def test_texting_join_subscribes_with_time_and_source(api: Api, db_path: Path) -> None:
    phone = api.phone("+15550003001")
    reply = await phone.text("join")
    assert reply.body.startswith("You're in!")
    rows = db_rows(db_path, "SELECT customer, business, event, source, channel, body, at FROM consent_events")
    assert rows == [("+15550003001", BUSINESS, "subscribe", "flow shop global/1 (audience deals)", "twilio",
                     "join", 1_800_000_000.0)]
    status, data = await api.get(DEALS)
    assert status == 200
    assert data["subscribers"] == [{"number": "+15550003001", "subscribed_at": "2027-01-15T08:00:00Z",
                                    "source": "flow shop global/1"}]
    assert data["next"] is None
    await phone.text("JOIN")  # again: still one subscription, one ledger event
    assert db_rows(db_path, "SELECT count(*) FROM consent_events") == [(1,)]


async def test_stop_ends_every_subscription_and_start_does_not_renew_it(api: Api) -> None:
    phone = api.phone("+15550003002")
    await phone.text("JOIN")
    await phone.text("STOP")
    assert (await api.get(DEALS))[1]["subscribers"] == []
    await phone.text("START")
    assert (await api.get(DEALS))[1]["subscribers"] == []
    await phone.text("JOIN")
    assert [s["number"] for s in (await api.get(DEALS))[1]["subscribers"]] == [phone.number]


async def test_add_list_page_and_remove(api: Api, db_path: Path) -> None:
    await api.phone("+15550003009").text("STOP")
    status, data = await api.post(DEALS, {
        "numbers": ["+15550003003", "+1 555 000 3004", "+15550003003", "+15550003009"],
        "source": "web form /deals, checkbox",
    })
    assert status == 200, data
    assert data["results"] == [
        {"number": "+15550003003", "status": "subscribed"},
        {"number": "+15550003004", "status": "subscribed"},
        {"number": "+15550003009", "status": "opted_out"},
    ]
    assert (data["subscribed"], data["already_subscribed"], data["opted_out"]) == (2, 0, 1)
    again = await api.post(DEALS, {"numbers": ["+15550003003"], "source": "again"})
    assert again[1]["results"] == [{"number": "+15550003003", "status": "already_subscribed"}]
    first = await api.get(DEALS + "?limit=1")
    assert [s["number"] for s in first[1]["subscribers"]] == ["+15550003003"]
    assert first[1]["subscribers"][0]["source"] == "api: web form /deals, checkbox"
    second = await api.get(DEALS + f"?limit=1&after={first[1]['next']}".replace("+", "%2B"))
    assert [s["number"] for s in second[1]["subscribers"]] == ["+15550003004"] and second[1]["next"] is None
    status, data = await api.call("DELETE", DEALS + "/+15550003003")
    assert (status, data["removed"]) == (200, True)
    status, data = await api.call("DELETE", DEALS + "/+15550003003")
    assert (status, data["error"]["code"]) == (404, "not_found")
    assert [s["number"] for s in (await api.get(DEALS))[1]["subscribers"]] == ["+15550003004"]
    events = db_rows(db_path, "SELECT event, source FROM consent_events WHERE customer = '+15550003003'")
    assert events == [("subscribe", "api: web form /deals, checkbox (audience deals)"),
                      ("unsubscribe", "api (audience deals)")]


@pytest.mark.parametrize("source", [" ", "\t\n", "\u00a0"])
async def test_a_blank_source_is_no_proof_of_consent(api: Api, db_path: Path, source: str) -> None:
    # The source is what the consent ledger keeps as proof: blank is as good as missing.
    status, data = await api.post(DEALS, {"numbers": ["+15550003005"], "source": source})
    assert (status, data["error"]["code"], data["error"]["field"]) == (400, "missing_field", "source"), data
    assert db_rows(db_path, "SELECT count(*) FROM subscriptions") == [(0,)]


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "code"),
    [
        ("POST", DEALS, {"numbers": ["+15550003005"]}, 400, "missing_field"),
        ("POST", DEALS, {"source": "x"}, 400, "missing_field"),
        ("POST", DEALS, {"numbers": "+15550003005", "source": "x"}, 400, "invalid_field"),
        ("POST", DEALS, {"numbers": ["+1555"], "source": "x"}, 400, "malformed_number"),
        ("POST", DEALS, {"numbers": ["+15550003005"], "source": "x", "flow": "zzz"}, 422, "unknown_flow"),
        ("POST", DEALS, {"numbers": ["+15550003005"], "source": "x", "flow": "shop", "from": "+15555550199"},
         422, "flow_number_mismatch"),
        ("POST", DEALS, {"numbers": ["+15550003005"], "source": "x", "audience": "y"}, 400, "unknown_field"),
        ("POST", "/api/audiences/bad!name/subscribers", {"numbers": ["+15550003005"], "source": "x"}, 400,
         "invalid_field"),
        ("GET", DEALS + "?limit=0", None, 400, "invalid_field"),
        ("GET", DEALS + "?limit=abc", None, 400, "invalid_field"),
        ("GET", DEALS + "?from=12", None, 400, "malformed_number"),
        ("GET", DEALS + "?flow=zzz", None, 422, "unknown_flow"),
        ("GET", DEALS + "?colour=red", None, 400, "unknown_field"),
        ("DELETE", DEALS + "/12", None, 400, "malformed_number"),
        ("DELETE", DEALS + "/+15550003005?flow=zzz", None, 422, "unknown_flow"),
        ("DELETE", DEALS + "/+15550003005", None, 404, "not_found"),
    ],
)
async def test_subscriber_errors(api: Api, method: str, path: str, body: object, status: int, code: str) -> None:
    got, data = await api.call(method, path, body)
    assert (got, data["error"]["code"]) == (status, code), data


def test_flow_key_subscribe_is_validated() -> None:
    base = "start: a\nstates:\n  a:\n    say: hi\n    choices:\n      - keywords: [JOIN]\n"
    flow = load_flow_text(base + "        subscribe: vip-list\n", "f.yaml", "media")
    assert flow.states["a"].choices[0].subscribe == "vip-list"
    with pytest.raises(FlowLoadError, match="audience name 'vip list'"):
        load_flow_text(base + "        subscribe: vip list\n", "f.yaml", "media")


@pytest.mark.parametrize(
    ("name", "said"),
    [
        ("d" * 101, "got 101 characters"),
        ("d" * 5000, "got 5000 characters"),
        ("-deals", "starting with a letter or digit"),
        ("_deals", "starting with a letter or digit"),
        ("deals%20list", "letters, digits"),
    ],
    ids=["101-chars", "5000-chars", "leading-dash", "leading-underscore", "space"],
)
async def test_an_audience_name_refused_says_what_is_expected(api: Api, name: str, said: str) -> None:
    # The rule in full, wherever the name comes: the path of every subscribers call, or a broadcast's body.
    expected = "1 to 100 characters"
    for method, path, body in (
        ("GET", f"/api/audiences/{name}/subscribers", None),
        ("POST", f"/api/audiences/{name}/subscribers", {"numbers": ["+15550003005"], "source": "form"}),
        ("DELETE", f"/api/audiences/{name}/subscribers/+15550003005", None),
        ("POST", "/api/broadcasts", {"audience": name.replace("%20", " "), "text": "hi"}),
    ):
        status, data = await api.call(method, path, body)
        assert (status, data["error"]["code"], data["error"]["field"]) == (400, "invalid_field", "audience"), data
        assert expected in data["error"]["message"] and said in data["error"]["message"], (method, path, data)


async def test_an_audience_name_of_exactly_100_characters_is_taken(api: Api) -> None:
    status, data = await api.post(f"/api/audiences/{'d' * 100}/subscribers",
                                  {"numbers": ["+15550003005"], "source": "form"})
    assert (status, data["subscribed"]) == (200, 1), data


async def test_adding_ten_thousand_subscribers_is_a_transaction_per_chunk(api: Api, db_path: Path) -> None:
    store = api.client.server.app[SERVICE].store
    await api.phone("+15551000007").text("STOP")
    numbers = [f"+1555100{i:04d}" for i in range(10_000)]
    begun: list[str] = []
    await store.db.set_trace_callback(lambda sql: begun.append(sql) if sql.startswith("BEGIN") else None)
    status, data = await api.post(DEALS, {"numbers": numbers, "source": "spring import"})
    await store.db.set_trace_callback(None)
    assert status == 200, data
    assert (data["subscribed"], data["already_subscribed"], data["opted_out"]) == (9_999, 0, 1)
    assert data["results"][7] == {"number": "+15551000007", "status": "opted_out"}
    assert [r["number"] for r in data["results"]] == numbers  # in the order given
    assert len(begun) == -(-len(numbers) // store.subscribe_chunk) <= 20  # was one per number
    # Each subscription still has its own ledger event, with the source as proof of consent.
    assert db_rows(db_path, "SELECT count(*) FROM subscriptions AS s JOIN consent_events AS e ON e.id = s.event_id "
                            "WHERE e.customer = s.customer AND e.source = 'api: spring import (audience deals)'"
                   ) == [(9_999,)]
    status, data = await api.post(DEALS, {"numbers": numbers, "source": "spring import"})
    assert (data["subscribed"], data["already_subscribed"], data["opted_out"]) == (0, 9_999, 1)
    assert db_rows(db_path, "SELECT count(*) FROM consent_events WHERE event = 'subscribe'") == [(9_999,)]


async def test_removing_a_number_that_opted_out_says_so_and_removes_nothing(api: Api, db_path: Path) -> None:
    # It answered "removed": true, as if it had still been a subscriber; its STOP had ended that.
    phone = api.phone("+15550003021")
    await phone.text("JOIN")
    await phone.text("STOP")
    status, data = await api.call("DELETE", DEALS + "/+15550003021")
    assert (status, data["error"]["code"]) == (404, "not_found"), data
    assert data["error"]["opted_out"] is True
    assert data["error"]["message"] == ("+15550003021 is not subscribed to 'deals' on +15555550100: it opted out "
                                        "(texted STOP), which ended its subscriptions; nothing was removed")
    events = db_rows(db_path, "SELECT event FROM consent_events WHERE customer = '+15550003021'")
    assert events == [("subscribe",), ("opt_out",)]
    # START lifts the block but renews no subscription: still nothing to remove, no longer opted out.
    await phone.text("START")
    status, data = await api.call("DELETE", DEALS + "/+15550003021")
    assert (status, data["error"]["code"]) == (404, "not_found")
    assert "opted_out" not in data["error"]
    assert data["error"]["message"] == "+15550003021 is not subscribed to 'deals' on +15555550100"
