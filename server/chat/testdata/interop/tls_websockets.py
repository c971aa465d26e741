# Chat login over wss:// with websockets (python3-websockets, asyncio):
# alice and bob log in, alice sends bob a private message, bob reads it.
# Usage: tls_websockets.py wss://HOST:PORT/ws CAFILE
import asyncio
import json
import ssl
import sys

import websockets

url, cafile = sys.argv[1], sys.argv[2]
ctx = ssl.create_default_context(cafile=cafile)


async def login(name):
    ws = await websockets.connect(url, ssl=ctx)
    await ws.send(json.dumps({"type": "login", "name": name}))
    reply = json.loads(await asyncio.wait_for(ws.recv(), 10))
    if reply.get("type") != "login_ok" or reply.get("user") != name:
        print("FAIL: login", name, reply)
        sys.exit(1)
    print("ok: logged in as", name)
    return ws


async def main():
    alice = await login("alice")
    bob = await login("bob")
    await alice.send(json.dumps({"receiver": "bob", "data": "psst over tls"}))
    while True:
        m = json.loads(await asyncio.wait_for(bob.recv(), 10))
        if m.get("type") == "message":
            break
    if m.get("sender") != "alice" or m.get("data") != "psst over tls":
        print("FAIL: bob got", m)
        sys.exit(1)
    print("ok: bob got alice's private message")
    await alice.close()
    await bob.close()
    print("PASS")


asyncio.run(main())
