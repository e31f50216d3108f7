"""The HTTP edge as an operator's tools and carriers meet it: methods, paths, headers.

The real app on loopback (``make_client``): every answer is checked as a
client sees it, status, headers and body.
"""

from __future__ import annotations

import pytest

from tests.conftest import AppFactory

API_TOKEN = "edge-test-token-0123456789"


@pytest.mark.parametrize(("method", "path", "allowed"), [
    ("POST", "/healthz", {"GET", "HEAD"}),
    ("OPTIONS", "/readyz", {"GET", "HEAD"}),
    ("DELETE", "/metrics", {"GET", "HEAD"}),
    ("PUT", "/media/size-chart.png", {"GET", "HEAD"}),
    ("GET", "/api/conversations", {"POST"}),
])
async def test_a_wrong_method_is_405_with_allow(make_client: AppFactory, method: str, path: str,
                                                 allowed: set[str]) -> None:
    client = await make_client(api_tokens=(API_TOKEN,))
    response = await client.request(method, path, headers={"Authorization": f"Bearer {API_TOKEN}"})
    assert response.status == 405
    # RFC 9110 15.5.6: a 405 MUST say which methods the resource takes.
    assert {m.strip() for m in response.headers.get("Allow", "").split(",")} == allowed, dict(response.headers)
    data = await response.json()
    assert data["error"]["code"] == "method_not_allowed"
    assert method in data["error"]["message"] and "GET" in data["error"]["message"], data
