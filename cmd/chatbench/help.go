package main

const helpText = `chatbench: load generator for chatd that checks delivery invariants.

Usage:
  chatbench SCENARIO [flags]          run one scenario (connect, idle, echo, private, room, mailbox, soak)
  chatbench -config FILE [flags]      run the scenario a YAML file describes (flags override it)
  chatbench compare [compare flags] SCENARIO [flags]
                                      same scenario against chatd and the baseline, back to back,
                                      -reps times; medians and ratios
  chatbench suite [compare flags]     the quick standard suite (make bench)
  chatbench plot -in FILE -plots DIR  the plots (and soak's CSV) of a saved JSON report again
  chatbench SCENARIO -h               the scenario flags
  chatbench compare -h                the compare flags

Several servers (the nodes of a cluster): -url takes a comma-separated list of n URLs, all with
the same path, and spreads the users over it: user i connects to URL i mod n. In private with
partners (user j and user N/2+j write to each other; N is -n) the second half is rotated by one,
user N/2+j on URL (j+1) mod n, so every pair spans two URLs and every message crosses nodes (N
must be even then). With -receiver random about (n-1)/n of the messages cross. In room
publisher k is on URL k mod n, and the members on the other URLs get its messages across nodes.
The invariants are checked by the clients, so they hold across nodes or the run fails. -pid
takes a comma-separated list too (or "$(pidof chatd)" in quotes); the server figures (RSS, fds,
threads, CPU) are then the sum over those processes. compare takes one URL.

soak: -n users for -d at a steady mix: -rate private+room messages/s (-room-share to rooms,
-offline-share of the private ones to logged-out users), -lobby-rate lobby messages/s, -churn
logouts per user-minute (back after -offline), -drops dropped connections resumed with since,
-moves room changes. Every promise is judged when its -deadline passes (violations are printed as
they happen, and a status line every minute); at the end the logged-out users log in and the rest
is judged. With -pid (RSS, fds, CPU) and -admin (goroutines from chatd's admin /metrics) it
samples every -interval (5s), with the machine's load, and judges RSS, fds, goroutines and the
per-interval p99 flat after the warm-up (-warmup, or -warmup-share of -d): the median of the last
quarter within -rss-ratio (etc.) times the first quarter's plus a slack. -plots writes
soak-rss.png, soak-fds.png, soak-goroutines.png, soak-load.png, soak-latency.png,
soak-throughput.png (800x400, warm-up end in red) and soak-resources.csv. chatd needs
chat.mailbox.anonymous: true and raised per-address limits: configs/chatd-soak.yaml, and
configs/chatbench-soak.yaml for the run of docs/BENCHMARKS.md.

Output: a table on stdout ending with "N passed, M failed"; -out FILE (JSON; "-" for stdout
instead of the table); -plots DIR (PNG: latency over time, percentile curve, throughput).
Exit status: 0 all invariants held, 1 one failed or the run could not finish, 2 bad usage.
`
