// Package procfs samples a server process from /proc/PID: resident memory
// (VmRSS), threads, open file descriptors and CPU time (utime+stime). The
// load generator reads them to report bytes per connection, descriptors per
// connection and server CPU per message. Go's goroutine count is not visible
// from outside the process and is not reported. ReadSum adds up several
// processes, such as the nodes of a cluster on one machine.
package procfs
