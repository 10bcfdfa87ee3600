"""A Python `websockets` server on 127.0.0.1 (a free port) for one connection.

It prints "LISTEN port"; once a client connects it sends the five scenario
messages (the last fragmented), checks the five it receives, and expects
the client to close with 4000 "bye".

    python3 websockets_server.py
"""

import asyncio

import websockets

import scenario
from websockets_client import send_all


async def main():
    done = asyncio.get_running_loop().create_future()

    async def handler(ws, *_path):  # websockets 10 passes the path, later ones do not
        failures = []
        checker = scenario.Checker()
        sender = asyncio.create_task(send_all(ws))
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

    async with websockets.serve(handler, "127.0.0.1", 0, max_size=None, compression=None) as server:
        port = next(iter(server.sockets)).getsockname()[1]
        print(f"LISTEN {port}", flush=True)
        return await done


if __name__ == "__main__":
    try:
        result = asyncio.run(asyncio.wait_for(main(), scenario.TIMEOUT))
    except Exception as e:  # any failure is a verdict, not a traceback
        result = [f"{type(e).__name__}: {e}"]
    scenario.finish(result)
