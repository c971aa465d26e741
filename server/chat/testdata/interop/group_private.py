# Tutorial 002's group chat and private chat, with websocket-client
# (python3-websocket): three users log in; a lobby message reaches the other
# two; {"sender","receiver","data"} reaches only the receiver.
import json
import sys

import websocket

url = sys.argv[1]


def login(name):
    ws = websocket.create_connection(url, timeout=5)
    ws.send(name)
    reply = ws.recv()
    if reply != "True":
        fail("login %s: %r" % (name, reply))
    return ws


def fail(msg):
    print("FAIL:", msg)
    sys.exit(1)


def expect_nothing(ws, who):
    ws.settimeout(0.5)
    try:
        got = ws.recv()
    except websocket.WebSocketTimeoutException:
        ws.settimeout(5)
        return
    fail("%s got unexpected %r" % (who, got))


alice, bob, carol = login("alice"), login("bob"), login("carol")

# Group chat: a message goes to everyone else.
alice.send("hello everyone")
for ws, who in ((bob, "bob"), (carol, "carol")):
    m = json.loads(ws.recv())
    if (m["type"], m["sender"], m["room"], m["data"]) != ("message", "alice", "lobby", "hello everyone"):
        fail("%s got %r" % (who, m))
    print("ok: %s got the lobby message" % who)
expect_nothing(alice, "alice")

# Private chat: {sender, receiver, data}, as the tutorial's client sends it.
alice.send(json.dumps({"sender": "alice", "receiver": "bob", "data": "hi bob"}))
m = json.loads(bob.recv())
if (m["sender"], m["receiver"], m["data"]) != ("alice", "bob", "hi bob"):
    fail("bob got %r" % m)
print("ok: bob got the private message")
# The tutorial's client sends no "id": it is told nothing back, so it never
# sees a frame without a "sender". A client that wants the outcome adds one.
expect_nothing(alice, "alice")
alice.send(json.dumps({"sender": "alice", "receiver": "bob", "data": "again", "id": 1}))
json.loads(bob.recv())
sent = json.loads(alice.recv())
if (sent["type"], sent["status"], sent["ref"]) != ("sent", "delivered", 1):
    fail("alice got %r" % sent)
print("ok: alice was told it was delivered")
expect_nothing(carol, "carol")
print("ok: carol got nothing")

for ws in (alice, bob, carol):
    ws.close()
print("PASS")
