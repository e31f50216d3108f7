"""GET /media/<name> with names no flow would use: each is a 404 in JSON, never a 500."""

from __future__ import annotations

import logging

import pytest
from yarl import URL

from tests.conftest import AppFactory


@pytest.mark.parametrize(
    "path",
    [
        "/media/a%00b",  # a NUL byte: the OS refuses the name outright
        "/media/size-chart.png%00.txt",
        "/media/" + "a" * 5000,  # longer than any file name the OS allows
        "/media/" + "/".join(["a" * 200] * 30),
    ],
    ids=["nul", "nul-before-extension", "long-name", "long-path"],
)
async def test_impossible_names_are_not_found(
    make_client: AppFactory, path: str, caplog: pytest.LogCaptureFixture
) -> None:
    client = await make_client()
    with caplog.at_level(logging.ERROR, logger="textdesk.web"):
        response = await client.get(URL(path, encoded=True))
    assert response.status == 404, await response.text()
    assert (await response.json())["error"]["code"] == "not_found"
    assert "Traceback" not in caplog.text


async def test_a_real_file_is_still_served(make_client: AppFactory) -> None:
    client = await make_client()
    response = await client.get("/media/size-chart.png")
    assert response.status == 200
    assert response.content_type == "image/png"
