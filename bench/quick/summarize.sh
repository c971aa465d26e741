#!/usr/bin/env bash
# summarize.sh RESULTS.jsonl prints the medians of compare.sh's results as
# Markdown tables, with chatd/baseline ratios. "runs" counts runs that
# produced a result out of all runs; opened and alive are the worst run's.
set -euo pipefail
jq -rs '
  def median: sort | if length == 0 then null
    elif length % 2 == 1 then .[length / 2 | floor]
    else (.[length / 2 - 1] + .[length / 2]) / 2 end;
  def r(n): if . == null then "-" else (. * pow(10; n) | round) / pow(10; n) | tostring end;
  def med(f): map(select(.mode != "failed")) | map(f) | median;
  def runs: "\(map(select(.mode != "failed")) | length)/\(length)";
  def worst(f): map(select(.mode != "failed")) | map(f) | min;
  (group_by(.test) | map({test: .[0].test, by: (group_by(.server) | map({key: .[0].server, value: .}) | from_entries)})) as $g
  | ([ $g[] | select(.test | startswith("idle")) |
      .test as $t | .by | to_entries[] | .key as $s | .value as $v |
      "| \($t) | \($s) | \($v | runs) | \($v | worst(.opened)) | \($v | worst(.alive)) | \($v | med(.rss_before / 1048576) | r(1)) | \($v | med(.rss_after / 1048576) | r(1)) | \($v | med(.rss_bytes_per_conn) | r(0)) | \($v | med(.fds_after - .opened)) | \($v | med(.threads_after)) | \($v | med(.connect_per_sec) | r(0)) | \($v | med(.server_cpu_us_per_connect) | r(0)) |"
    ] | if length > 0 then
      ["| test | server | runs | opened (worst) | alive after hold (worst) | RSS before MiB | RSS held MiB | RSS bytes/conn | fds − conns | threads | conn/s | server CPU µs/conn |",
       "|---|---|---|---|---|---|---|---|---|---|---|---|"] + . else [] end),
    "",
    ([ $g[] | select(.test | startswith("echo")) |
      .test as $t | .by | to_entries[] | .key as $s | .value as $v |
      "| \($t) | \($s) | \($v | runs) | \($v | med(.rt_per_sec) | r(0)) | \($v | med(.p50_us) | r(1)) | \($v | med(.p99_us) | r(1)) | \($v | med(.server_cpu_us_per_rt) | r(2)) | \($v | med(.server_cpu_util) | r(2)) | \($v | med(.client_cpu_us_per_rt) | r(2)) | \($v | worst(-.errors) | -.) |"
    ] | if length > 0 then
      ["| test | server | runs | round trips/s | p50 µs | p99 µs | server CPU µs/RT | server cores | client CPU µs/RT | errors (worst) |",
       "|---|---|---|---|---|---|---|---|---|---|"] + . else [] end),
    "",
    ([ $g[] | select(.by.chatd != null and .by.baseline != null) |
      .test as $t | .by.chatd as $c | .by.baseline as $b |
      if ($t | startswith("idle")) then
        "| \($t) | RSS bytes/conn | \(($c | med(.rss_bytes_per_conn)) / ($b | med(.rss_bytes_per_conn)) | r(3)) |"
      else
        "| \($t) | round trips/s | \(($c | med(.rt_per_sec)) / ($b | med(.rt_per_sec)) | r(2)) |",
        "| \($t) | server CPU µs/RT | \(($c | med(.server_cpu_us_per_rt)) / ($b | med(.server_cpu_us_per_rt)) | r(2)) |",
        "| \($t) | p50 latency | \(($c | med(.p50_us)) / ($b | med(.p50_us)) | r(2)) |"
      end
    ] | if length > 0 then ["| test | metric | chatd / baseline (medians) |", "|---|---|---|"] + . else [] end),
    "",
    "load average (1 min) during runs: median \(map(.load1) | median), max \(map(.load1) | max); chatd commit: \(map(.commit // "unrecorded") | unique | join(", "))"
  | if type == "array" then .[] else . end
' "$1"
