"""The OpenAPI document matches the API: every mounted route is described, nothing else is.

Every answer the API tests receive is also checked against the document as it
arrives (tests/test_api_harness.py ``check_against_spec``): its status, its
error code (documented for that operation) and its required fields.
"""

from __future__ import annotations

import json

from aiohttp import web

from bot.api.errors import ERRORS
from bot.api.openapi import OPENAPI, operation_errors
from tests.test_api_harness import Api

# The API fixtures (api, make_api, fake_twilio) live in the harness module.
pytest_plugins = ("tests.test_api_harness",)


def mounted_routes(app: web.Application) -> set[tuple[str, str]]:
    routes: set[tuple[str, str]] = set()
    for resource in app.router.resources():
        if isinstance(resource, web.PrefixedSubAppResource) and resource.canonical == "/api":
            for route in resource._app.router.routes():
                if route.method != "HEAD" and route.resource is not None:
                    routes.add((route.method.lower(), route.resource.canonical))
    return routes


async def test_every_route_is_documented_and_every_documented_route_exists(api: Api) -> None:
    documented = {(method, path) for path, operations in OPENAPI["paths"].items() for method in operations}
    assert mounted_routes(api.client.server.app) == documented


async def test_the_served_document_is_the_one_in_the_code(api: Api) -> None:
    response = await api.client.get("/api/openapi.json")
    assert response.status == 200
    assert await response.json() == json.loads(json.dumps(OPENAPI))


def test_every_error_code_is_documented_somewhere_with_its_status() -> None:
    used = set()
    for path, operations in OPENAPI["paths"].items():
        for method, operation in operations.items():
            for code in operation_errors(method, path):
                used.add(code)
                assert code in operation["responses"][str(ERRORS[code][0])]["x-error-codes"]
    # Refusals of a path or method no operation has (aiohttp's routing) are documented once, for any path.
    for response in OPENAPI["components"]["responses"].values():
        used.update(response["x-error-codes"])
    assert used == set(ERRORS)
    assert OPENAPI["components"]["schemas"]["Error"]["properties"]["error"]["properties"]["code"]["enum"] == sorted(
        ERRORS
    )
