"""A Python `autobahn` (asyncio flavour) client that runs the scenario.

It sends the five messages (the last one in FRAGMENT_SIZE-byte frames,
cutting code points), checks the five it receives, then closes with
4000 "bye" and checks that the server answered with the same code.

    python3 autobahn_client.py ws://127.0.0.1:PORT/path
"""

import asyncio
import sys
from urllib.parse import urlparse

from autobahn.asyncio.websocket import WebSocketClientFactory, WebSocketClientProtocol

import scenario


class Peer(WebSocketClientProtocol):
    result = None  # a Future set by main

    def onOpen(self):
        self.checker = scenario.Checker()
        self.closing = False
        msgs = scenario.messages()
        for _, payload in msgs[:-1]:
            binary = isinstance(payload, bytes)
            self.sendMessage(payload if binary else payload.encode(), isBinary=binary)
        _, text = msgs[-1]
        self.sendMessage(text.encode(), isBinary=False, fragmentSize=scenario.FRAGMENT_SIZE)

    def onMessage(self, payload, isBinary):
        self.checker.add(payload if isBinary else payload.decode())
        if self.checker.done() and not self.closing:
            self.closing = True
            self.sendClose(code=scenario.CLOSE_CODE, reason=scenario.CLOSE_REASON)

    def onClose(self, wasClean, code, reason):
        failures = self.checker.summary() if hasattr(self, "checker") else ["connection never opened"]
        if not wasClean:
            failures.append(f"close was not clean: {self.wasNotCleanReason}")
        # RFC 6455 5.5.1: the answer typically echoes the code; the reason
        # is the answering side's own (ours sends none).
        if code != scenario.CLOSE_CODE:
            failures.append(f'close: server answered {code} "{reason}", want {scenario.CLOSE_CODE}')
        if not Peer.result.done():
            Peer.result.set_result(failures)


async def main(url):
    u = urlparse(url)
    Peer.result = asyncio.get_running_loop().create_future()
    factory = WebSocketClientFactory(url)
    factory.protocol = Peer
    # No compression offer; no payload limits (0); wait for the server to
    # close TCP after the close handshake, as RFC 6455 §7.1.1 wants.
    # autobahn waits 1 s for the close handshake and for the server to drop
    # TCP; under make test's load (every package's -race tests at once on 2
    # cores) our answer has missed that. The scenario's own timeout still
    # bounds the run.
    factory.setProtocolOptions(maxFramePayloadSize=0, maxMessagePayloadSize=0,
                               closeHandshakeTimeout=10, serverConnectionDropTimeout=10)
    transport, _ = await asyncio.get_running_loop().create_connection(factory, u.hostname, u.port)
    try:
        return await Peer.result
    finally:
        transport.close()


if __name__ == "__main__":
    try:
        result = asyncio.run(asyncio.wait_for(main(sys.argv[1]), scenario.TIMEOUT))
    except Exception as e:  # any failure is a verdict, not a traceback
        result = [f"{type(e).__name__}: {e}"]
    scenario.finish(result)
