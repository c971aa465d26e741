// Package compare runs the same scenario against chatd and the baseline
// server (bench/baseline), back to back, several times, and prints the
// medians and their ratios; Suite runs a standard quick set of small
// scenarios that way (make bench).
//
// Every run gets a freshly started server, so memory numbers start from an
// idle process: compare builds a chatd config from a template
// (configs/chatbench-server.yaml: warn-level logs, a raised rate limit, no
// presence), points it at a free loopback port and a fresh mailbox
// directory, and starts the binary; the baseline gets -addr. The order of
// the two servers alternates with each repetition, so neither always runs
// on a warmer or busier machine. Each run's JSON report and the servers'
// logs go to a work directory. Every server started is stopped (SIGTERM,
// then SIGKILL) whatever happens.
//
// Ratios are chatd / baseline. The machine is shared and noisy: read
// medians and ratios, not single runs.
package compare
