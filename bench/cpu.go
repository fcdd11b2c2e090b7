package bench

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// CPUReading is a snapshot of the processor time used so far: the machine's in all, and each
// process's, from /proc (Linux only; empty elsewhere). Two readings give what the parts of a
// measurement that share the cores used between them (CPUReading.Since).
type CPUReading struct {
	total time.Duration
	procs map[int]procTime
}

type procTime struct {
	comm string
	t    time.Duration
}

// CPU is the processor time the parts of a measurement used: the system under test, the
// PostgreSQL processes, the harness itself, and everything else (the kernel's threads, the
// machine's other services).
type CPU struct {
	System, Postgres, Harness, Other time.Duration
}

// clockTick is USER_HZ, in which /proc reports times: 100 on every Linux this runs on.
const clockTick = 100

// ReadCPU takes a reading.
func ReadCPU() CPUReading {
	r := CPUReading{procs: map[int]procTime{}}
	if b, err := os.ReadFile("/proc/stat"); err == nil {
		// cpu user nice system idle iowait irq softirq steal …: busy is all but idle and iowait.
		line, _, _ := strings.Cut(string(b), "\n")
		for i, f := range strings.Fields(line)[1:] {
			if n, err := strconv.ParseInt(f, 10, 64); err == nil && i != 3 && i != 4 && i < 8 {
				r.total += time.Duration(n) * time.Second / clockTick
			}
		}
	}
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	for _, d := range dirs {
		pid, err := strconv.Atoi(filepath.Base(d))
		if err != nil {
			continue
		}
		b, err := os.ReadFile(d + "/stat")
		if err != nil {
			continue // gone meanwhile
		}
		// pid (comm) state … utime and stime are the 14th and 15th fields; comm may hold spaces.
		s := string(b)
		open, end := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
		if open < 0 || end < open {
			continue
		}
		f := strings.Fields(s[end+1:])
		if len(f) < 13 {
			continue
		}
		ut, _ := strconv.ParseInt(f[11], 10, 64)
		st, _ := strconv.ParseInt(f[12], 10, 64)
		r.procs[pid] = procTime{comm: s[open+1 : end], t: time.Duration(ut+st) * time.Second / clockTick}
	}
	return r
}

// Since answers what was used between earlier and r by the process systemPID, by PostgreSQL,
// by this process and by the rest. A process that ended between the readings is counted in
// the rest.
func (r CPUReading) Since(earlier CPUReading, systemPID int) CPU {
	var c CPU
	self := os.Getpid()
	for pid, p := range r.procs {
		d := p.t
		if e, ok := earlier.procs[pid]; ok && e.comm == p.comm {
			d -= e.t
		}
		switch {
		case pid == self:
			c.Harness += d
		case pid == systemPID:
			c.System += d
		case p.comm == "postgres":
			c.Postgres += d
		}
	}
	c.Other = max(0, r.total-earlier.total-c.Harness-c.System-c.Postgres)
	return c
}

// PerThousand formats the processor time each part used per thousand units of work.
func (c CPU) PerThousand(n int64) string {
	if n <= 0 {
		return "-"
	}
	per := func(d time.Duration) string { return fmt.Sprintf("%.2f", d.Seconds()*1000/float64(n)) }
	return fmt.Sprintf("CPU s per 1000: redress %s, postgres %s, harness %s, other %s",
		per(c.System), per(c.Postgres), per(c.Harness), per(c.Other))
}

// Memory is a process's resident memory from /proc/PID/status: now (VmRSS) and the highest
// since it started (VmHWM), in bytes.
type Memory struct{ Resident, Peak int64 }

// ReadMemory reads pid's resident memory (issue 22 target 8: `redress dev` under 300 MB idle
// and under 1 GB at peak intake).
func ReadMemory(pid int) (Memory, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return Memory{}, fmt.Errorf("memory of %d: %w", pid, err)
	}
	var m Memory
	for line := range strings.SplitSeq(string(b), "\n") {
		name, v, ok := strings.Cut(line, ":")
		if !ok || (name != "VmRSS" && name != "VmHWM") {
			continue
		}
		kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
		if err != nil {
			return Memory{}, fmt.Errorf("memory of %d: %s: %w", pid, line, err)
		}
		if name == "VmRSS" {
			m.Resident = kb << 10
		} else {
			m.Peak = kb << 10
		}
	}
	return m, nil
}

// MB formats bytes in megabytes.
func MB(n int64) string { return fmt.Sprintf("%.0f MB", float64(n)/(1<<20)) }
