package procfs

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// clockTicks is USER_HZ, the unit of utime and stime in /proc/PID/stat. It
// is 100 on every Linux architecture Go supports (sysconf(_SC_CLK_TCK)).
const clockTicks = 100

// Sample is one reading of a process's resources from /proc.
type Sample struct {
	At      time.Time     `json:"at"`
	RSS     int64         `json:"rss"` // bytes (VmRSS)
	Threads int           `json:"threads"`
	FDs     int           `json:"fds"`
	CPU     time.Duration `json:"cpu_ns"` // user+system so far
}

// Read reads VmRSS and Threads from /proc/PID/status and counts the
// entries of /proc/PID/fd.
func Read(pid int) (Sample, error) {
	s := Sample{At: time.Now()}
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return s, fmt.Errorf("server process: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		key, val, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		fields := strings.Fields(val)
		if len(fields) == 0 {
			continue
		}
		switch key {
		case "VmRSS": // "VmRSS:	   12345 kB"
			kb, err := strconv.ParseInt(fields[0], 10, 64)
			if err != nil {
				return s, fmt.Errorf("VmRSS %q: %w", val, err)
			}
			s.RSS = kb << 10
		case "Threads":
			if s.Threads, err = strconv.Atoi(fields[0]); err != nil {
				return s, fmt.Errorf("Threads %q: %w", val, err)
			}
		}
	}
	if err := sc.Err(); err != nil {
		return s, err
	}
	d, err := os.Open(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		return s, fmt.Errorf("server fds: %w", err)
	}
	defer d.Close()
	for {
		names, err := d.Readdirnames(4096)
		s.FDs += len(names)
		if err != nil {
			break // io.EOF at the end
		}
	}
	s.CPU, err = CPUTime(pid)
	return s, err
}

// CPUTime is the CPU time (user + system) process pid has used so far, from
// utime and stime in /proc/PID/stat. Its resolution is 1/clockTicks s.
func CPUTime(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, fmt.Errorf("server process: %w", err)
	}
	// The command name (field 2) is in parentheses and may hold spaces:
	// fields are counted after the last ')'. There field 3 (state) is
	// index 0, so utime (field 14) is index 11 and stime (15) index 12.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, fmt.Errorf("/proc/%d/stat: no ')'", pid)
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0, fmt.Errorf("/proc/%d/stat: %d fields after the name", pid, len(f))
	}
	ut, err1 := strconv.ParseInt(f[11], 10, 64)
	st, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("/proc/%d/stat: utime %q stime %q", pid, f[11], f[12])
	}
	return time.Duration(ut+st) * time.Second / clockTicks, nil
}

// ReadSum reads each of pids (Read) and returns the sum of their samples:
// RSS, threads, descriptors and CPU time of the processes together, such as
// the nodes of a cluster on one machine. At is the time of the first read.
func ReadSum(pids []int) (Sample, error) {
	var sum Sample
	for i, pid := range pids {
		s, err := Read(pid)
		if err != nil {
			return sum, fmt.Errorf("pid %d: %w", pid, err)
		}
		if i == 0 {
			sum.At = s.At
		}
		sum.RSS += s.RSS
		sum.Threads += s.Threads
		sum.FDs += s.FDs
		sum.CPU += s.CPU
	}
	return sum, nil
}

// LoadAvg returns the machine's 1- and 5-minute load averages
// (/proc/loadavg): runnable and uninterruptible tasks, all processes
// together, so it shows the other work on a shared machine.
func LoadAvg() (load1, load5 float64, err error) {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return 0, 0, err
	}
	f := strings.Fields(string(b))
	if len(f) < 2 {
		return 0, 0, fmt.Errorf("/proc/loadavg: %q", b)
	}
	if load1, err = strconv.ParseFloat(f[0], 64); err != nil {
		return 0, 0, err
	}
	load5, err = strconv.ParseFloat(f[1], 64)
	return load1, load5, err
}
