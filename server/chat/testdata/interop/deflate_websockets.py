# Two chat users on python3-websockets 10.4 exchange lobby messages, with
# permessage-deflate as websockets offers it by default ("deflate"), with a
# 512-byte server window ("deflate9"), or without offering it ("plain").
# Prints "ok: ..." per check and "PASS" last; exits non-zero on failure.
import asyncio
import json
import sys

import websockets
from websockets.extensions.permessage_deflate import ClientPerMessageDeflateFactory

URL, MODE = sys.argv[1], sys.argv[2]


def options():
    if MODE == "deflate":
        return {}  # websockets' default offer: permessage-deflate; client_max_window_bits
    if MODE == "deflate9":
        return {"compression": None, "extensions": [
            ClientPerMessageDeflateFactory(server_max_window_bits=9, client_max_window_bits=True)]}
    return {"compression": None}


def fail(why):
    print("FAIL:", why)
    sys.exit(1)


async def login(name):
    ws = await websockets.connect(URL, **options())
    await ws.send(name)
    if await ws.recv() != "True":
        fail("login " + name)
    return ws


def check_extension(ws):
    exts = ws.extensions
    if MODE == "plain":
        if exts:
            fail("extensions negotiated without an offer: %r" % exts)
        return
    if len(exts) != 1 or exts[0].name != "permessage-deflate":
        fail("permessage-deflate not negotiated: %r" % exts)
    e = exts[0]
    if not e.remote_no_context_takeover or not e.local_no_context_takeover:
        fail("no_context_takeover not both set: %r" % e)
    want_bits = 9 if MODE == "deflate9" else 15
    if e.remote_max_window_bits != want_bits:
        fail("server window %r, want %d" % (e.remote_max_window_bits, want_bits))


async def main():
    alice = await login("alice")
    bob = await login("bob")
    for ws in (alice, bob):
        check_extension(ws)
    print("ok: negotiated", MODE)
    sent = 0
    for i in range(20):
        text = ("message %d: " % i) + "the quick brown fox jumps over the lazy dog; " * (4 + i * 3)
        src, dst, sender = (alice, bob, "alice") if i % 2 == 0 else (bob, alice, "bob")
        await src.send(json.dumps({"data": text}))
        got = json.loads(await asyncio.wait_for(dst.recv(), 10))
        if got.get("type") != "message" or got.get("sender") != sender or got.get("data") != text:
            fail("message %d: got %r" % (i, got))
        sent += 1
    print("ok: %d lobby messages delivered" % sent)
    await alice.close()
    await bob.close()
    if alice.close_code != 1000 or bob.close_code != 1000:
        fail("close codes %r %r" % (alice.close_code, bob.close_code))
    print("ok: closed 1000")
    print("PASS")


asyncio.run(main())
