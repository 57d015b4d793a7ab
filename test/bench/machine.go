package main

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"runtime/debug"
	"strings"
)

// Machine describes where the figures were measured.
type Machine struct {
	CPUs     int
	CPUModel string
	MemTotal string
	Go       string
	Node     string
	CDK      string // aws-cdk-go version the app is built with
	Kernel   string
}

func describeMachine(repo string) Machine {
	m := Machine{CPUs: runtime.NumCPU(), Go: runtime.Version()}
	m.CPUModel = procField("/proc/cpuinfo", "model name")
	if mem := procField("/proc/meminfo", "MemTotal"); mem != "" {
		var kb int64
		if _, err := fmt.Sscanf(mem, "%d kB", &kb); err == nil {
			m.MemTotal = fmt.Sprintf("%.1f GiB", float64(kb)/(1<<20))
		}
	}
	if out, err := exec.Command("node", "--version").Output(); err == nil {
		m.Node = strings.TrimSpace(string(out))
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = strings.TrimSpace(string(b))
	}
	m.CDK = moduleVersion("github.com/aws/aws-cdk-go/awscdk/v2")
	if m.CDK == "" {
		// go run records dependencies; a test binary may not.
		if out, err := exec.Command("go", "list", "-C", repo, "-m", "-f", "{{.Version}}", "github.com/aws/aws-cdk-go/awscdk/v2").Output(); err == nil {
			m.CDK = strings.TrimSpace(string(out))
		}
	}
	return m
}

func moduleVersion(path string) string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return ""
	}
	for _, d := range bi.Deps {
		if d.Path == path {
			return d.Version
		}
	}
	return ""
}

// procField returns the value of the first "key: value" line of a /proc file.
func procField(file, key string) string {
	f, err := os.Open(file)
	if err != nil {
		return ""
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		k, v, ok := strings.Cut(s.Text(), ":")
		if ok && strings.TrimSpace(k) == key {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// loadAverage returns the 1-minute load average: on a shared machine it
// says how much the wall-clock figures are worth.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return "?"
	}
	return f[0]
}

func (m Machine) String() string {
	return fmt.Sprintf("%d CPUs (%s), %s RAM, Linux %s, %s, Node.js %s, aws-cdk-go %s",
		m.CPUs, m.CPUModel, m.MemTotal, m.Kernel, m.Go, m.Node, m.CDK)
}
