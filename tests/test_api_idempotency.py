"""An Idempotency-Key names one broadcast request: a retry gets the first broadcast back,
another request under the same key is refused instead of silently answered with the first."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.conftest import db_rows
from tests.test_api_harness import Api

# The API fixtures (api, make_api, fake_twilio) live in the harness module.
pytest_plugins = ("tests.test_api_harness",)

FIRST = {"numbers": ["+15550060001", "+15550060002"], "text": "Spring sale"}


@pytest.mark.parametrize(
    ("second", "field"),
    [
        ({**FIRST, "text": "Summer sale"}, "text"),
        ({**FIRST, "numbers": ["+15550060001", "+15550060002", "+15550060003"]}, "numbers"),
        ({**FIRST, "numbers": ["+15550060001", "+15550060003"]}, "numbers"),
        ({**FIRST, "media": ["pic.png"]}, "media"),
        ({"numbers": FIRST["numbers"], "state": "menu"}, "state"),
        ({**FIRST, "flow": "other"}, "flow"),
    ],
    ids=["other-text", "more-numbers", "other-numbers-as-many", "added-media", "flow-start", "other-flow"],
)
async def test_the_same_key_with_another_request_is_refused(
    api: Api, db_path: Path, second: dict[str, Any], field: str
) -> None:
    status, first = await api.post("/api/broadcasts", FIRST, headers={"Idempotency-Key": "spring-1"})
    assert status == 202, first
    status, data = await api.post("/api/broadcasts", second, headers={"Idempotency-Key": "spring-1"})
    assert (status, data["error"]["code"], data["error"]["field"]) == (422, "idempotency_key_reused", field), data
    assert first["id"] in data["error"]["message"]
    assert db_rows(db_path, "SELECT count(*) FROM broadcasts")[0][0] == 1


async def test_a_retry_written_differently_is_still_the_same_request(api: Api) -> None:
    status, first = await api.post("/api/broadcasts", FIRST, headers={"Idempotency-Key": "spring-2"})
    assert status == 202
    retry = {"numbers": ["(555) 006-0002", "+1 555 006 0001"], "region": "US", "text": "Spring sale"}
    status, again = await api.post("/api/broadcasts", retry, headers={"Idempotency-Key": "spring-2"})
    assert (status, again["id"]) == (200, first["id"]), again
