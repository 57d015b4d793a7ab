package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Run is what one measured process did.
type Run struct {
	Wall time.Duration
	// CPU is user plus system time of the process and every descendant it
	// waited for (the jsii node child of the Go app among them).
	CPU time.Duration
	// PeakTreeRSS is the largest sum of the resident sets of the process
	// and all its descendants seen while polling /proc.
	PeakTreeRSS int64
	// MaxRSS is the largest resident set of any single process of the tree
	// (the kernel's ru_maxrss), a lower bound that needs no polling.
	MaxRSS int64
	Stderr string
}

// pollInterval is how often the process tree's memory is sampled.
const pollInterval = 50 * time.Millisecond

// measure runs cmd to completion, timing it and sampling the memory of its
// whole process tree. A non-zero exit is an error that carries the end of
// the process's standard error, unless the caller took the standard error
// (cmd.Stderr set).
func measure(ctx context.Context, cmd *exec.Cmd) (Run, error) {
	var stderr bytes.Buffer
	if cmd.Stderr == nil {
		cmd.Stderr = &stderr
	}
	if cmd.Stdout == nil {
		cmd.Stdout = &stderr
	}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return Run{}, err
	}
	done := make(chan struct{})
	peak := make(chan int64, 1)
	go func() {
		var max int64
		t := time.NewTicker(pollInterval)
		defer t.Stop()
		for {
			if rss := treeRSS(cmd.Process.Pid); rss > max {
				max = rss
			}
			select {
			case <-done:
				peak <- max
				return
			case <-t.C:
			}
		}
	}()
	waitErr := make(chan error, 1)
	go func() { waitErr <- cmd.Wait() }()
	var err error
	select {
	case err = <-waitErr:
	case <-ctx.Done():
		// Kill the whole group: the app's node child must not outlive it.
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-waitErr
		err = ctx.Err()
	}
	r := Run{Wall: time.Since(start)}
	close(done)
	r.PeakTreeRSS = <-peak
	r.Stderr = stderr.String()
	if st := cmd.ProcessState; st != nil {
		r.CPU = st.UserTime() + st.SystemTime()
		if ru, ok := st.SysUsage().(*syscall.Rusage); ok {
			r.MaxRSS = ru.Maxrss * 1024 // KiB on Linux
		}
	}
	if r.MaxRSS > r.PeakTreeRSS {
		// A process shorter than one polling interval was missed.
		r.PeakTreeRSS = r.MaxRSS
	}
	if err != nil {
		return r, fmt.Errorf("%s: %w\n%s", strings.Join(cmd.Args, " "), err, tail(r.Stderr, 40))
	}
	return r, nil
}

// command makes a command in its own process group, so that a timeout can
// end it and its children together.
func command(dir string, env []string, name string, args ...string) *exec.Cmd {
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	return cmd
}

// treeRSS returns the summed resident set size in bytes of pid and all its
// descendants, from /proc. Processes that end while it reads are skipped.
func treeRSS(root int) int64 {
	children := map[int][]int{}
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return 0
	}
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if ppid, ok := parentOf(pid); ok {
			children[ppid] = append(children[ppid], pid)
		}
	}
	var sum int64
	stack := []int{root}
	for len(stack) > 0 {
		pid := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		sum += rssOf(pid)
		stack = append(stack, children[pid]...)
	}
	return sum
}

// parentOf reads the parent pid from /proc/PID/stat, whose second field (the
// command name) may hold spaces and parentheses.
func parentOf(pid int) (int, bool) {
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return 0, false
	}
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, false
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 2 {
		return 0, false
	}
	ppid, err := strconv.Atoi(f[1])
	return ppid, err == nil
}

var pageSize = int64(os.Getpagesize())

// rssOf reads the resident set of pid from /proc/PID/statm, in bytes.
func rssOf(pid int) int64 {
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "statm"))
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	if len(f) < 2 {
		return 0
	}
	pages, err := strconv.ParseInt(f[1], 10, 64)
	if err != nil {
		return 0
	}
	return pages * pageSize
}

func tail(s string, lines int) string {
	l := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(l) > lines {
		l = l[len(l)-lines:]
	}
	return strings.Join(l, "\n")
}
