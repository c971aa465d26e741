# Tutorial 002's private chat with websocket-client (python3-websocket), as
# its clients do it: no login frame (the user is named by the address, as the
# tutorial's /ws/<uid>), and each message is {"sender", "receiver", "data"}
# with no "id". Run by TestTutorial002PrivatePython.
#
# Usage: private_chat.py ws://HOST:PORT MODE
#   MODE json: ws://HOST/ws?name=N and ws://HOST/ws/N; what arrives is JSON,
#              read the tutorial's way (m["sender"], m["receiver"], m["data"]:
#              a frame without them, such as a "sent", raises KeyError)
#   MODE text: ws://HOST/ws?name=N&format=text; what arrives is one readable
#              line per message
#
# Prints "ok: ..." per check and "PASS" last; a failed check prints "FAIL: ..."
# and exits 1.
import json
import sys

import websocket

base, mode = sys.argv[1], sys.argv[2]
TIMEOUT = 5


def fail(msg):
    print("FAIL:", msg)
    sys.exit(1)


def connect(path):
    ws = websocket.create_connection(base + path, timeout=TIMEOUT)
    # The URL logged us in: its answer is the first message.
    reply = ws.recv()
    if reply != "True":
        fail("%s: login answer %r, want 'True'" % (path, reply))
    return ws


def expect_nothing(ws, who):
    ws.settimeout(0.5)
    try:
        got = ws.recv()
    except websocket.WebSocketTimeoutException:
        ws.settimeout(TIMEOUT)
        return
    fail("%s got unexpected %r" % (who, got))


def send_private(ws, sender, receiver, data):
    # The tutorial's client: ws.send(JSON.stringify({sender, receiver, data})).
    ws.send(json.dumps({"sender": sender, "receiver": receiver, "data": data}))


if mode == "json":
    alice = connect("/ws?name=alice")
    bob = connect("/ws/bob")  # the tutorial's /ws/<uid>

    send_private(alice, "alice", "bob", "hi bob, 你好")
    m = json.loads(bob.recv())
    if (m["sender"], m["receiver"], m["data"]) != ("alice", "bob", "hi bob, 你好"):
        fail("bob got %r" % m)
    print("ok: bob got {sender, receiver, data} from alice")

    send_private(bob, "bob", "alice", {"text": "hi alice", "n": 1})
    m = json.loads(alice.recv())
    if (m["sender"], m["receiver"], m["data"]) != ("bob", "alice", {"text": "hi alice", "n": 1}):
        fail("alice got %r" % m)
    print("ok: alice got bob's answer, data unchanged")

    # Group chat from the same connections: plain text goes to the lobby.
    alice.send("hello everyone")
    m = json.loads(bob.recv())
    if (m["sender"], m["room"], m["data"]) != ("alice", "lobby", "hello everyone"):
        fail("bob got %r" % m)
    print("ok: bob got alice's lobby message")

    # No "id" in what they sent: nothing came back to the senders.
    expect_nothing(alice, "alice")
    expect_nothing(bob, "bob")
    print("ok: no sent frames")

    # A sender that is not the user named by the URL is refused, with an
    # error the client sees, and nothing reaches bob.
    send_private(alice, "mallory", "bob", "spoofed")
    m = json.loads(alice.recv())
    if m.get("type") != "error":
        fail("alice got %r, want an error" % m)
    expect_nothing(bob, "bob")
    print("ok: a spoofed sender is refused: %s" % m["error"])

elif mode == "text":
    alice = connect("/ws?name=alice&format=text")
    bob = connect("/ws?name=bob&format=text")

    send_private(alice, "alice", "bob", "hi bob, 你好")
    got = bob.recv()
    if got != "[private] alice: hi bob, 你好":
        fail("bob got %r" % got)
    print("ok: bob got %r" % got)

    send_private(bob, "bob", "alice", "hi alice")
    got = alice.recv()
    if got != "[private] bob: hi alice":
        fail("alice got %r" % got)
    print("ok: alice got %r" % got)

    alice.send("hello everyone")
    got = bob.recv()
    if got != "[lobby] alice: hello everyone":
        fail("bob got %r" % got)
    print("ok: bob got %r" % got)

    expect_nothing(alice, "alice")
    expect_nothing(bob, "bob")
    print("ok: no sent frames")

    send_private(alice, "mallory", "bob", "spoofed")
    got = alice.recv()
    if not got.startswith("error: "):
        fail("alice got %r, want an error line" % got)
    expect_nothing(bob, "bob")
    print("ok: a spoofed sender is refused: %r" % got)

else:
    fail("unknown mode %r" % mode)

for ws in (alice, bob):
    ws.close()
print("PASS")
