package main

const helpText = `chatbench: load generator for chatd that checks delivery invariants.

Usage:
  chatbench SCENARIO [flags]          run one scenario (connect, idle, echo, private, room, mailbox)
  chatbench -config FILE [flags]      run the scenario a YAML file describes (flags override it)
  chatbench compare [compare flags] SCENARIO [flags]
                                      same scenario against chatd and the baseline, back to back,
                                      -reps times; medians and ratios
  chatbench suite [compare flags]     the quick standard suite (make bench)
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

Output: a table on stdout ending with "N passed, M failed"; -out FILE (JSON; "-" for stdout
instead of the table); -plots DIR (PNG: latency over time, percentile curve, throughput).
Exit status: 0 all invariants held, 1 one failed or the run could not finish, 2 bad usage.
`
