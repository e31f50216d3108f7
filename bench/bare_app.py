"""The baseline for ``bench.webhook``: a bare aiohttp app answering the same requests.

It reads and parses the Twilio form (as any webhook must) and answers 200
with a one-message TwiML reply of typical size; nothing else: no signature
check, no flow, no database, no logging. ``python3 -m bench.bare_app --port P``.
"""

from __future__ import annotations

import argparse

from aiohttp import web

REPLY = (
    '<?xml version="1.0" encoding="UTF-8"?><Response><Message><Body>'
    "Our stores are open Mon-Sat 9am-8pm and Sun 10am-6pm. Holiday hours are posted at "
    "acmeoutfitters.example/stores. Reply MENU for more options.</Body></Message></Response>"
)


async def twilio(request: web.Request) -> web.Response:
    form = await request.post()
    if not form.get("MessageSid") or not form.get("From"):
        return web.json_response({"error": "missing field"}, status=400)
    return web.Response(text=REPLY, content_type="text/xml", charset="utf-8")


async def healthz(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    app = web.Application(client_max_size=64 * 1024)
    app.router.add_post("/webhooks/twilio", twilio)
    app.router.add_get("/healthz", healthz)
    web.run_app(app, host="127.0.0.1", port=args.port, access_log=None, print=None)


if __name__ == "__main__":
    main()
