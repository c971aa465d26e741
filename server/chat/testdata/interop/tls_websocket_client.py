# Chat login over wss:// with websocket-client (python3-websocket):
# alice and bob log in, alice says something in the lobby, bob reads it.
# The server's certificate is verified against the CA file given.
# Usage: tls_websocket_client.py wss://HOST:PORT/ws CAFILE
import json
import ssl
import sys

import websocket

url, cafile = sys.argv[1], sys.argv[2]
sslopt = {"cert_reqs": ssl.CERT_REQUIRED, "ca_certs": cafile}


def login(name):
    ws = websocket.create_connection(url, sslopt=sslopt, timeout=10)
    ws.send(json.dumps({"type": "login", "name": name}))
    reply = json.loads(ws.recv())
    if reply.get("type") != "login_ok" or reply.get("user") != name:
        print("FAIL: login", name, reply)
        sys.exit(1)
    print("ok: logged in as", name, "over", ws.sock.version())
    return ws


alice = login("alice")
bob = login("bob")
alice.send("hello over tls")
while True:
    m = json.loads(bob.recv())
    if m.get("type") == "message":
        break
if m.get("sender") != "alice" or m.get("data") != "hello over tls":
    print("FAIL: bob got", m)
    sys.exit(1)
print("ok: bob got alice's lobby message")
alice.close()
bob.close()
print("PASS")
