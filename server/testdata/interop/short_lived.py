"""Short-lived websocket-client session against chatd's /echo.

The tutorial program (seeds 001 and 004) with the URL as an argument and its
output checked: create_connection, send, recv, close. After the tutorial's
"Hello, Server" it also sends non-ASCII UTF-8 text and binary messages.

Usage: /usr/bin/python3 short_lived.py ws://127.0.0.1:PORT/echo

Prints the tutorial's lines plus one "ok: ..." line per correct echo, then
"PASS". A wrong echo prints "FAIL: ..." to stderr and exits 1; any other
error (refused, timeout, protocol error) exits 1 with a traceback.
"""
import sys

from websocket import create_connection

TIMEOUT = 10  # seconds, for the handshake and for each recv

# (name, payload): str is sent as a text message, bytes as binary.
MESSAGES = [
    ("utf-8 text", "héllo wörld, 你好, привет, 👋🏽"),
    ("binary, every byte value", bytes(range(256))),
    ("binary, 60000 bytes", bytes(i * 7 % 251 for i in range(60000))),
    ("empty text", ""),
]


def fail(msg):
    print("FAIL: " + msg, file=sys.stderr)
    sys.exit(1)


def check_echo(name, sent, got):
    if type(got) is not type(sent):
        fail("%s: sent %s, got %s back: %r" % (name, type(sent).__name__, type(got).__name__, got[:80]))
    if got != sent:
        fail("%s: echo differs: sent %d bytes/chars %r..., got %d %r..." % (
            name, len(sent), sent[:40], len(got), got[:40]))
    print("ok: %s (%d)" % (name, len(got)))


def short_lived_connection(url):
    ws = create_connection(url, timeout=TIMEOUT)
    print("Sending 'Hello, Server'...")
    ws.send("Hello, Server")
    print("Sent")
    print("Receiving...")
    result = ws.recv()
    print("Received '%s'" % result)
    check_echo("tutorial text", "Hello, Server", result)

    for name, payload in MESSAGES:
        if isinstance(payload, bytes):
            ws.send_binary(payload)
        else:
            ws.send(payload)
        check_echo(name, payload, ws.recv())

    ws.close()  # sends close 1000 and waits for chatd's close frame
    print("closed")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: short_lived.py ws://HOST:PORT/echo")
    short_lived_connection(sys.argv[1])
    print("PASS")
