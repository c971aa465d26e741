"""Long-lived websocket-client session (WebSocketApp) against chatd's /echo.

The tutorial program (seed 004's "Hello 0..2" loop, seeds 000/001's
callbacks) with the URL as an argument and its output checked. on_open starts
a thread that sends each message, waits for its echo (instead of the
tutorial's sleep), then closes the connection; run_forever returns after
on_close, which must have seen chatd's close frame with code 1000.

Closing: the tutorial calls ws.close() from its thread. In websocket-client
1.2 (Debian 12) that races with run_forever's loop: when close() stops the
loop before the loop has seen chatd's close frame, run_forever returns
without calling on_close at all (about half the runs on a fast loopback).
So the thread sends the close frame itself (ws.sock.send_close) and lets
run_forever receive chatd's answer, which always ends in on_close with
chatd's code. If chatd does not answer within TIMEOUT, the thread stops the
loop with ws.close() and the script fails.

Usage: /usr/bin/python3 long_lived.py ws://127.0.0.1:PORT/echo

Prints each echo as on_message sees it and one "ok: ..." line per check, then
"PASS". A failed check prints "FAIL: ..." to stderr and exits 1; if the whole
session takes longer than DEADLINE seconds it exits 3.
"""
import os
import queue
import sys
import threading

import websocket

TIMEOUT = 10  # seconds: handshake, and the wait for each echo
DEADLINE = 30  # seconds for the whole session

MESSAGES = ["Hello %d" % i for i in range(3)] + [
    "héllo wörld, 你好, привет, 👋🏽",
    bytes(range(256)),  # bytes are sent as a binary message
]

echoes = queue.Queue()  # what on_message received, in order
errors = []  # what on_error received
closed = []  # the arguments on_close got, once it ran
close_seen = threading.Event()  # set by on_close
senders = []  # the thread on_open started
failures = []  # failed checks of the sender thread


def on_message(ws, message):
    print("received message as {!r}".format(message if len(message) < 40 else message[:40]))
    echoes.put(message)


def on_error(ws, error):
    print("received error as {!r}".format(error), file=sys.stderr)
    errors.append(error)


# websocket-client >= 1.0 (Debian 12 has 1.2.3) calls on_close(ws, code,
# reason); older versions, as in the tutorials, call on_close(ws). Accept both.
def on_close(ws, *args):
    print("### closed ### {!r}".format(args))
    closed.append(args)
    close_seen.set()


def on_open(ws):
    def run():
        try:
            for msg in MESSAGES:
                if isinstance(msg, bytes):
                    ws.send(msg, websocket.ABNF.OPCODE_BINARY)
                else:
                    ws.send(msg)
                try:
                    got = echoes.get(timeout=TIMEOUT)
                except queue.Empty:
                    failures.append("no echo of %r within %ds" % (msg[:40], TIMEOUT))
                    return
                if type(got) is not type(msg) or got != msg:
                    failures.append("sent %r, got %r back" % (msg[:40], got[:40]))
                    return
                print("ok: echo of %s message %r" % (
                    "binary" if isinstance(msg, bytes) else "text", msg[:20]))
            # Close 1000; chatd answers with its own close frame, on which
            # run_forever calls on_close and returns.
            ws.sock.send_close(websocket.STATUS_NORMAL)
            if not close_seen.wait(TIMEOUT):
                failures.append("no close frame from chatd within %ds of ours" % TIMEOUT)
        except Exception as e:  # a send failed
            failures.append("sender: %r" % e)
        finally:
            if not close_seen.is_set():
                ws.close()  # stop run_forever
            print("Thread terminating...")

    sender = threading.Thread(target=run, daemon=True)
    senders.append(sender)
    sender.start()


def watchdog():
    print("FAIL: session still running after %ds" % DEADLINE, file=sys.stderr)
    sys.stderr.flush()
    os._exit(3)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: long_lived.py ws://HOST:PORT/echo")
    timer = threading.Timer(DEADLINE, watchdog)
    timer.daemon = True
    timer.start()

    websocket.setdefaulttimeout(TIMEOUT)
    ws = websocket.WebSocketApp(sys.argv[1],
                                on_open=on_open,
                                on_message=on_message,
                                on_error=on_error,
                                on_close=on_close)
    ws.run_forever()
    for sender in senders:
        sender.join(TIMEOUT)

    problems = failures + ["on_error: %r" % e for e in errors]
    if not closed:
        problems.append("on_close never ran")
    elif len(closed[0]) == 2 and closed[0][0] != websocket.STATUS_NORMAL:
        # websocket-client >= 1.0: (code, reason) of chatd's close frame.
        problems.append("on_close got close code %r, want %d" % (closed[0][0], websocket.STATUS_NORMAL))
    if echoes.qsize():
        problems.append("%d unexpected extra messages" % echoes.qsize())
    if problems:
        for p in problems:
            print("FAIL: " + p, file=sys.stderr)
        sys.exit(1)
    print("ok: on_close ran")
    print("PASS")
