# A shared program for the bridge's tests: every line "ID text" comes in on
# stdin; "to:X text" answers only X ("@X ..."), "pid" tells the sender the
# program's pid, anything else is broadcast as "ID: text".
import os
import sys

for line in sys.stdin:
    ident, _, text = line.rstrip("\n").partition(" ")
    if text.startswith("to:"):
        target, _, rest = text[3:].partition(" ")
        print("@%s %s says %s" % (target, ident, rest), flush=True)
    elif text == "pid":
        print("@%s pid %d" % (ident, os.getpid()), flush=True)
    else:
        print("%s: %s" % (ident, text), flush=True)
