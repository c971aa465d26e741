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

Output: a table on stdout ending with "N passed, M failed"; -out FILE (JSON; "-" for stdout
instead of the table); -plots DIR (PNG: latency over time, percentile curve, throughput).
Exit status: 0 all invariants held, 1 one failed or the run could not finish, 2 bad usage.
`
