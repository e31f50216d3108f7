"""Query strings of the API: each parameter at most once, and only those an endpoint takes.

``?limit=5&limit=6`` used to be read as 5 (``limit``, the first) while a repeated
``from`` was read as its last value: a client could not know which one counted.
Every endpoint now refuses a repeated parameter, naming it, and a parameter it
does not take (as a JSON body's unknown field is refused), never ignoring either.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import db_rows
from tests.test_api_harness import OTHER_BUSINESS, Api

# The API fixtures (api, make_api, fake_twilio) live in the harness module.
pytest_plugins = ("tests.test_api_harness",)

DEALS = "/api/audiences/deals/subscribers"
CUSTOMER = "%2B15550001234"


@pytest.mark.parametrize(
    ("method", "path", "name"),
    [
        ("GET", DEALS + "?limit=5&limit=6", "limit"),
        ("GET", DEALS + "?limit=5&limit=5", "limit"),
        ("GET", DEALS + "?after=%2B1555&after=%2B1556", "after"),
        ("GET", DEALS + f"?from=%2B15555550100&from={OTHER_BUSINESS.replace('+', '%2B')}", "from"),
        ("GET", DEALS + "?flow=shop&flow=other", "flow"),
        ("GET", DEALS + "?region=US&region=CA", "region"),
        ("DELETE", DEALS + f"/{CUSTOMER}?flow=shop&flow=other", "flow"),
        ("DELETE", DEALS + f"/{CUSTOMER}?from=%2B15555550100&from=%2B15555550100", "from"),
    ],
)
async def test_a_repeated_query_parameter_is_refused_by_name(api: Api, method: str, path: str, name: str) -> None:
    status, data = await api.call(method, path)
    assert (status, data["error"]["code"], data["error"]["field"]) == (400, "invalid_field", name), data
    assert f"'{name}'" in data["error"]["message"] and "once" in data["error"]["message"], data


async def test_a_repeated_parameter_never_removes_anyone(api: Api, db_path: Path) -> None:
    await api.post(DEALS, {"numbers": ["+15550001234"], "source": "form"})
    status, _ = await api.call("DELETE", DEALS + f"/{CUSTOMER}?flow=shop&flow=shop")
    assert status == 400
    assert db_rows(db_path, "SELECT count(*) FROM subscriptions WHERE active = 1") == [(1,)]


@pytest.mark.parametrize(
    ("method", "path", "body", "name"),
    [
        ("GET", "/api/broadcasts/bc_0000000000000000?verbose=1", None, "verbose"),
        ("POST", "/api/broadcasts?from=%2B15555550199", {"numbers": ["+15550001234"], "text": "hi"}, "from"),
        ("POST", "/api/conversations?state=menu", {"to": "+15550001234"}, "state"),
        ("POST", DEALS + "?source=x", {"numbers": ["+15550001234"], "source": "form"}, "source"),
        ("POST", "/api/verifications?length=4", {"to": "+15550001234"}, "length"),
        ("POST", "/api/verifications/check?code=1234", {"to": "+15550001234", "code": "123456"}, "code"),
        ("DELETE", DEALS + f"/{CUSTOMER}?limit=3", None, "limit"),
    ],
)
async def test_a_query_parameter_an_endpoint_does_not_take_is_refused_not_ignored(
    api: Api, db_path: Path, method: str, path: str, body: object, name: str
) -> None:
    # A client that put 'from' in the query would otherwise broadcast from the default number.
    status, data = await api.call(method, path, body)
    assert (status, data["error"]["code"], data["error"]["field"]) == (400, "unknown_field", name), data
    assert f"'{name}'" in data["error"]["message"]
    for table in ("broadcasts", "subscriptions", "verifications", "outbound"):
        assert db_rows(db_path, f"SELECT count(*) FROM {table}") == [(0,)]


async def test_single_parameters_still_work(api: Api) -> None:
    await api.post(DEALS, {"numbers": ["+15550001234", "+15550001235"], "source": "form"})
    status, data = await api.get(DEALS + "?limit=1&flow=shop&region=US")
    assert status == 200 and [s["number"] for s in data["subscribers"]] == ["+15550001234"], data
    status, data = await api.call("DELETE", DEALS + "/5550001235?region=US")
    assert (status, data["removed"]) == (200, True), data


@pytest.mark.parametrize("name", ["after", "from"])
async def test_a_plus_left_unencoded_in_the_query_is_refused_with_the_fix(api: Api, name: str) -> None:
    # "?after=+1555..." reads as " 1555...": as a cursor it sorted before every number, so
    # a client copying 'next' into the URL got page one again, for ever.
    await api.post(DEALS, {"numbers": ["+15550001234", "+15550001235"], "source": "form"})
    status, data = await api.get(DEALS + f"?limit=1&{name}=+15550001234")
    assert (status, data["error"]["code"], data["error"]["field"]) == (400, "malformed_number", name), data
    assert "%2B" in data["error"]["message"], data


async def test_the_after_cursor_is_a_number_and_pages_to_the_end(api: Api) -> None:
    numbers = [f"+1555000{i:04d}" for i in range(5)]
    await api.post(DEALS, {"numbers": numbers, "source": "form"})
    seen: list[str] = []
    after = ""
    for _ in range(10):
        _, data = await api.get(DEALS + "?limit=2" + (f"&after={after.replace('+', '%2B')}" if after else ""))
        seen += [s["number"] for s in data["subscribers"]]
        if data["next"] is None:
            break
        after = data["next"]
    assert seen == numbers
    status, data = await api.get(DEALS + "?after=nobody")
    assert (status, data["error"]["code"], data["error"]["field"]) == (400, "malformed_number", "after"), data
