package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/renderenv/renderenv/internal/manifest"
)

// BenchmarkValidate1000 loads (decodes and validates) the generated estate of
// 1,000 productions across 5 shared accounts (1,001 files with studio.yaml).
//
//	go test -run '^$' -bench Validate1000 -benchmem ./test/bench
func BenchmarkValidate1000(b *testing.B) {
	fsys, _ := generatedFS(1000, 5)
	b.ReportAllocs()
	for b.Loop() {
		if _, errs := manifest.Load(fsys, "generated"); len(errs) > 0 {
			b.Fatal(errs)
		}
	}
}

// The rest checks the harness itself, quickly: `go test ./test/bench`.

func TestMeasureSumsTheProcessTree(t *testing.T) {
	// A shell whose child holds memory: the tree's RSS must include both.
	cmd := command(t.TempDir(), nil, "sh", "-c", "sleep 0.3 & wait")
	r, err := measure(t.Context(), cmd)
	if err != nil {
		t.Fatal(err)
	}
	if r.Wall < 300*time.Millisecond {
		t.Errorf("wall %s, want at least the child's 300ms", r.Wall)
	}
	if r.PeakTreeRSS <= 0 || r.MaxRSS <= 0 {
		t.Errorf("peak tree RSS %d, max RSS %d: want both measured", r.PeakTreeRSS, r.MaxRSS)
	}
	if r.PeakTreeRSS < r.MaxRSS {
		t.Errorf("peak tree RSS %d below the largest single process %d", r.PeakTreeRSS, r.MaxRSS)
	}
}

func TestMeasureReportsFailure(t *testing.T) {
	cmd := command(t.TempDir(), nil, "sh", "-c", "echo broken >&2; exit 3")
	_, err := measure(t.Context(), cmd)
	if err == nil || !strings.Contains(err.Error(), "broken") {
		t.Fatalf("got %v, want an error carrying the standard error", err)
	}
}

func TestTreeRSSOfThisProcess(t *testing.T) {
	if rss := treeRSS(os.Getpid()); rss < 1<<20 {
		t.Errorf("treeRSS of the test process = %d bytes, want at least 1 MiB", rss)
	}
}

func TestCountAssembly(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("acme-p0001.template.json", `{"Resources":{"A":{},"B":{}}}`)
	write("acme-network.template.json", `{"Resources":{"C":{}}}`)
	write("manifest.json", `{"artifacts":{
		"acme-p0001":{"type":"aws:cloudformation:stack","properties":{"templateFile":"acme-p0001.template.json"}},
		"acme-network":{"type":"aws:cloudformation:stack","properties":{"templateFile":"acme-network.template.json"}}}}`)
	write("tree.json", `{"tree":{"id":"App","children":{"acme-p0001":{"children":{"A":{}}},"acme-network":{}}}}`)
	c, err := countAssembly(dir)
	if err != nil {
		t.Fatal(err)
	}
	if c.Stacks != 2 || c.Resources != 3 || c.Constructs != 4 || c.PerStack["acme-p0001"] != 2 {
		t.Errorf("got %+v", c)
	}
	if _, err := countAssembly(t.TempDir()); err == nil {
		t.Error("an empty folder counted without error")
	}
}

func TestReport(t *testing.T) {
	s := func(n int, wall, cpu time.Duration) Synth {
		return Synth{N: n, Workers: 1, Run: Run{Wall: wall, CPU: cpu, PeakTreeRSS: 600 << 20},
			Count: Count{Stacks: 2*n + 2, Resources: 110 * n, PerStack: map[string]int{"acme-p0001": 107}}}
	}
	r := &Report{
		Go:         []Synth{s(1, 20*time.Second, 10*time.Second), s(11, 30*time.Second, 15*time.Second)},
		TS:         []Synth{s(1, 15*time.Second, 8*time.Second), s(11, 20*time.Second, 10*time.Second)},
		Validation: Validation{Manifests: 1000, Runs: 3, Min: 90 * time.Millisecond, Median: 100 * time.Millisecond},
		Selective: &Selective{Size: 11, Production: "p0001", Limit: selectiveLimit,
			Only:  []Synth{s(11, 24*time.Second, 11*time.Second)},
			Alone: []Synth{s(1, 20*time.Second, 10*time.Second)}},
	}
	two := s(11, 20*time.Second, 16*time.Second)
	two.Workers = 2
	r.Go = append(r.Go, two)
	md := r.Markdown()
	for _, want := range []string{
		"| 11 | 24 | 1210 |", // the Go table row
		"### Full synthesis: bin/app (Go, jsii, cdk-nag), 2 worker processes",
		"| 11 | 2 | 20 s | 16 s | 1.50× | 600 MiB |", // 30 s in one process, 20 s in two
		"| 1.00 s | 500 ms |", // marginal wall and CPU: 10 s and 5 s over 10 productions
		"Ratio 1.20× wall, 1.10× CPU: the requirement (≤ 1.3×) holds",
		"**90 ms**",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("report lacks %q:\n%s", want, md)
		}
	}
	r.Selective.Only[0].Wall = 27 * time.Second
	if md := r.Markdown(); !strings.Contains(md, "does NOT hold") {
		t.Errorf("1.35× reported as holding:\n%s", md)
	}
}

func TestParseSizes(t *testing.T) {
	got, err := parseSizes(" 200,1, 50,")
	if err != nil || len(got) != 3 || got[0] != 1 || got[2] != 200 {
		t.Errorf("parseSizes = %v, %v", got, err)
	}
	if _, err := parseSizes("0"); err == nil {
		t.Error("size 0 accepted")
	}
	if got, err := parseSizes(""); err != nil || len(got) != 0 {
		t.Errorf("parseSizes(\"\") = %v, %v", got, err)
	}
}

func TestKernelCounterCountsRequestsAndCallbacks(t *testing.T) {
	log := strings.Join([]string{
		`> {"api":"load","name":"constructs"}`,
		`[@jsii/kernel] load {`,
		`  api: 'load',`,
		`}`,
		`< {"ok":{"assembly":"constructs","types":12}}`,
		`> {"api":"create","fqn":"aws-cdk-lib.App"}`,
		`< {"callback":{"cookie":"Visit","cbid":"jsii::callback::20000"}}`,
		`> {"complete":{"cbid":"jsii::callback::20000"}}`,
		`< {"ok":{}}`,
		`>`,                 // too short to be a message
		`  > {"api":"get"}`, // not at the start of a line
		`< {"callback":{"cbid":"jsii::callback::20001"}}`,
		`> {"complete":{"cbid":"jsii::callback::20001"}}`,
	}, "\n") + "\n"
	// Fed in every chunk size, so that lines split across writes count once.
	for size := 1; size <= len(log); size++ {
		var k kernelCounter
		for i := 0; i < len(log); i += size {
			if _, err := k.Write([]byte(log[i:min(i+size, len(log))])); err != nil {
				t.Fatal(err)
			}
		}
		if k.Requests != 4 || k.Callbacks != 2 {
			t.Fatalf("chunks of %d bytes: %d requests, %d callbacks; want 4 and 2", size, k.Requests, k.Callbacks)
		}
		if !strings.HasSuffix(string(k.tail), "20001\"}}\n") {
			t.Fatalf("chunks of %d bytes: tail %q lacks the end of the output", size, k.tail)
		}
	}
}

func TestReportKernelColumns(t *testing.T) {
	r := &Report{Phases: []PhaseRun{
		{N: 20, Variant: "as cdk synth", Phases: Phases{Build: time.Second}, Kernel: &KernelTraffic{Requests: 2000, Callbacks: 100}},
		{N: 20, Variant: "without cdk-nag", Phases: Phases{Build: time.Second}},
	}}
	md := r.Markdown()
	for _, want := range []string{"kernel requests / production | callbacks / production |", "| 100 | 5 |\n", "| – | – |\n"} {
		if !strings.Contains(md, want) {
			t.Errorf("report lacks %q:\n%s", want, md)
		}
	}
	r.Phases[0].Kernel = nil
	if md := r.Markdown(); strings.Contains(md, "kernel requests") {
		t.Errorf("kernel columns without -jsii:\n%s", md)
	}
}

func TestShapeErrorsFlagsAReferenceOfAnotherSize(t *testing.T) {
	s := func(n, resources, workers int) Synth {
		return Synth{N: n, Workers: workers, Count: Count{Resources: resources}}
	}
	r := &Report{
		Go: []Synth{s(1, 314, 1), s(50, 6010, 1), s(50, 6010, 2), s(200, 21732, 1)},
		TS: []Synth{s(1, 296, 1), s(50, 5400, 1), s(200, 24000, 1)},
	}
	got := r.ShapeErrors()
	want := []string{
		"50 productions: test/tsref has 5400 resources, renderenv 6010 (-10%, the limit is ±10%)",
		"200 productions: test/tsref has 24000 resources, renderenv 21732 (+10%, the limit is ±10%)",
	}
	if !slices.Equal(got, want) {
		t.Errorf("ShapeErrors:\n%q\nwant\n%q", got, want)
	}
	r.TS[1].Resources, r.TS[2].Resources = 5735, 22385
	if got := r.ShapeErrors(); len(got) != 0 {
		t.Errorf("sizes within 10%% flagged: %q", got)
	}
}
