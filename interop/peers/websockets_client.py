"""A Python `websockets` client that runs the scenario against a server.

It sends the scenario's messages (the last fragmented: websockets sends an
iterable as one message, a frame per item), checks those it receives,
then closes with 4000 "bye" and checks that the server answered with the
same code.

The optional second argument is JSON (see scenario.config): the scenario,
and permessage-deflate's parameters to offer. The client prints the
server's Sec-WebSocket-Extensions as "EXT value" ("EXT " for none).

    python3 websockets_client.py ws://127.0.0.1:PORT/path ['{"scenario":"deflate","deflate":{...}}']
"""

import asyncio
import sys

import websockets
from websockets.extensions.permessage_deflate import ClientPerMessageDeflateFactory

import scenario


async def send_all(ws, name="plain"):
    msgs = scenario.messages(name)
    for _, payload in msgs[:-1]:
        await ws.send(payload)
    # Text fragments must be whole str objects, so cut between code points,
    # in pieces of about FRAGMENT_SIZE bytes.
    await ws.send(iter(scenario.text_fragments(msgs[-1][1])))


async def main(url, name, deflate):
    failures = []
    checker = scenario.Checker(name)
    extensions = [ClientPerMessageDeflateFactory(**deflate)] if deflate is not None else None
    async with websockets.connect(url, max_size=None, compression=None, extensions=extensions) as ws:
        print(f"EXT {ws.response_headers.get('Sec-WebSocket-Extensions', '')}", flush=True)
        sender = asyncio.create_task(send_all(ws, name))
        while not checker.done():
            checker.add(await ws.recv())
        await sender
        await ws.close(code=scenario.CLOSE_CODE, reason=scenario.CLOSE_REASON)
        # RFC 6455 5.5.1: the answer typically echoes the code; the reason
        # is the answering side's own (ours sends none).
        if ws.close_code != scenario.CLOSE_CODE:
            failures.append(
                f'close: server answered {ws.close_code} "{ws.close_reason}", want {scenario.CLOSE_CODE}'
            )
    return checker.summary() + failures


if __name__ == "__main__":
    try:
        name, deflate = scenario.config(sys.argv[2] if len(sys.argv) > 2 else "")
        result = asyncio.run(asyncio.wait_for(main(sys.argv[1], name, deflate), scenario.TIMEOUT))
    except Exception as e:  # any failure is a verdict, not a traceback
        result = [f"{type(e).__name__}: {e}"]
    scenario.finish(result)
