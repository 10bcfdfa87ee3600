"""A Python `websockets` client that runs the scenario against a server.

It sends the five messages (the last fragmented: websockets sends an
iterable as one message, a frame per item), checks the five it receives,
then closes with 4000 "bye" and checks that the server answered with the
same code.

    python3 websockets_client.py ws://127.0.0.1:PORT/path
"""

import asyncio
import sys

import websockets

import scenario


async def send_all(ws):
    msgs = scenario.messages()
    for _, payload in msgs[:-1]:
        await ws.send(payload)
    # Text fragments must be whole str objects, so cut between code points,
    # in pieces of about FRAGMENT_SIZE bytes.
    unit, n = scenario.FRAGMENT_UNIT, scenario.FRAGMENT_REPEAT
    per = scenario.FRAGMENT_SIZE // len(unit.encode())
    await ws.send(iter([unit * min(per, n - i) for i in range(0, n, per)]))


async def main(url):
    failures = []
    checker = scenario.Checker()
    async with websockets.connect(url, max_size=None, compression=None) as ws:
        sender = asyncio.create_task(send_all(ws))
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
        result = asyncio.run(asyncio.wait_for(main(sys.argv[1]), scenario.TIMEOUT))
    except Exception as e:  # any failure is a verdict, not a traceback
        result = [f"{type(e).__name__}: {e}"]
    scenario.finish(result)
