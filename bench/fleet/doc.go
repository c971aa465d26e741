// Package fleet runs one chatbench scenario over several worker processes
// and collects their results.
//
// One process may hold at most 20,000 open files, so a run of more than
// ~19,000 connections needs several client processes. The parent (Run)
// re-executes its own binary as "chatbench worker" once per Shard (with
// one shard it runs the worker in-process, over pipes, through the very
// same code), and talks to each over its stdin and stdout, one JSON object
// per line:
//
//	parent → worker   {"job": {...}}                  first line: config, shard, epoch
//	worker → parent   {"progress": {...}}             live counters, twice a second
//	worker → parent   {"sync": "ready"}               reached a phase; waits
//	parent → worker   {"release": "ready", "at": …}   every worker reached it
//	worker → parent   {"result": {...}}               last line: what it measured
//	worker → parent   {"error": "..."}                it could not go on
//
// The phases are barriers: the parent releases a phase once every worker
// has reached it, after an optional hold (the idle scenario holds its
// connections there while the parent samples the server). The parent
// samples the server (-pid) before the run, every interval, at each
// release and after the run, and at each release also reads the client's
// own CPU time (its own and its workers', from /proc); Summarize turns
// these into per-phase numbers.
//
// A worker whose stdin reaches EOF (the parent is gone) stops at once, so
// no worker outlives its parent; the parent kills workers that do not exit
// within a few seconds of the end.
package fleet
