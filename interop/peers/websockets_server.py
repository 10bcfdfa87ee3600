"""A Python `websockets` server on 127.0.0.1 (a free port) for one connection.

It prints "LISTEN port"; once a client connects it sends the scenario's
messages (the last fragmented), checks those it receives, and expects the
client to close with 4000 "bye".

The optional argument is JSON (see scenario.config): the scenario, and
permessage-deflate's parameters to accept with. The server prints the
Sec-WebSocket-Extensions it answered with as "EXT value" ("EXT " for none).

    python3 websockets_server.py ['{"scenario":"deflate","deflate":{...}}']
"""

import asyncio
import sys

import websockets
from websockets.extensions.permessage_deflate import ServerPerMessageDeflateFactory

import scenario
from websockets_client import send_all


async def main(name, deflate):
    done = asyncio.get_running_loop().create_future()

    async def handler(ws, *_path):  # websockets 10 passes the path, later ones do not
        failures = []
        print(f"EXT {ws.response_headers.get('Sec-WebSocket-Extensions', '')}", flush=True)
        checker = scenario.Checker(name)
        sender = asyncio.create_task(send_all(ws, name))
        try:
            while True:
                checker.add(await ws.recv())
        except websockets.ConnectionClosed:
            pass
        try:
            await sender
        except websockets.ConnectionClosed as e:
            failures.append(f"connection closed before all messages were sent: {e}")
        if (ws.close_code, ws.close_reason) != (scenario.CLOSE_CODE, scenario.CLOSE_REASON):
            failures.append(
                f'close: got {ws.close_code} "{ws.close_reason}", '
                f'want {scenario.CLOSE_CODE} "{scenario.CLOSE_REASON}"'
            )
        if not done.done():
            done.set_result(checker.summary() + failures)

    extensions = [ServerPerMessageDeflateFactory(**deflate)] if deflate is not None else None
    async with websockets.serve(
        handler, "127.0.0.1", 0, max_size=None, compression=None, extensions=extensions
    ) as server:
        port = next(iter(server.sockets)).getsockname()[1]
        print(f"LISTEN {port}", flush=True)
        return await done


if __name__ == "__main__":
    try:
        name, deflate = scenario.config(sys.argv[1] if len(sys.argv) > 1 else "")
        result = asyncio.run(asyncio.wait_for(main(name, deflate), scenario.TIMEOUT))
    except Exception as e:  # any failure is a verdict, not a traceback
        result = [f"{type(e).__name__}: {e}"]
    scenario.finish(result)
