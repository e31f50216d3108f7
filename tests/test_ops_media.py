"""GET /media/<name> with names no flow would use: each is a 404 in JSON, never a 500."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

import pytest
from yarl import URL

from bot.replies import media_file
from tests.conftest import FLOWS, AppFactory


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


async def test_a_symlink_loop_is_not_found(make_client: AppFactory, tmp_path: Path) -> None:
    # resolve() raises RuntimeError for a loop before Python 3.13 (OSError after):
    # either way a name like any missing one, here and in the API's media check.
    flows = tmp_path / "flows"
    shutil.copytree(FLOWS, flows)
    (flows / "media" / "loop").symlink_to("loop")
    client = await make_client(flows_dir=flows)
    response = await client.get("/media/loop")
    assert response.status == 404, await response.text()
    assert media_file((flows / "media").resolve(), "loop") is None
    assert media_file((flows / "media").resolve(), "size-chart.png") == (flows / "media" / "size-chart.png").resolve()


@pytest.mark.parametrize("byte_range", ["bytes=99999999-", "bytes=99999999-100000000"])
async def test_an_unsatisfiable_range_is_not_cached(make_client: AppFactory, byte_range: str) -> None:
    # The day-long public caching is for the file: a 416 carrying it let a CDN
    # (or a carrier's media fetcher) keep "no such range" for a day.
    client = await make_client()
    response = await client.get("/media/size-chart.png", headers={"Range": byte_range})
    assert response.status == 416
    assert response.headers["Content-Range"].startswith("bytes */")
    assert "public" not in response.headers.get("Cache-Control", "")
    assert "no-store" in response.headers.get("Cache-Control", "")


async def test_a_satisfiable_range_and_the_whole_file_are_cached(make_client: AppFactory) -> None:
    client = await make_client()
    part = await client.get("/media/size-chart.png", headers={"Range": "bytes=0-9"})
    assert part.status == 206 and len(await part.read()) == 10
    whole = await client.get("/media/size-chart.png")
    for response in (part, whole):
        assert response.headers["Cache-Control"] == "public, max-age=86400"
