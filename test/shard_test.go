package test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/renderenv/renderenv/internal/estate"
	"github.com/renderenv/renderenv/internal/estategen"
	"github.com/renderenv/renderenv/internal/jsiienv"
	"github.com/renderenv/renderenv/internal/shard"
)

// shardedShape is the studio of the sharding test: outside an organization,
// with no log-archive account of its own and no VPN, pools and a pinned
// Transit Gateway; the deployment test synthesizes acme (an organization,
// a log-archive account, a VPN, a looked-up Transit Gateway) in workers.
var shardedShape = parseShape("00011100")

// TestShardedSynthesisEqualsOneProcess: the app synthesizes a generated
// estate of 12 productions (pools, shared and dedicated accounts; in
// shardedShape) in one
// process, whose jsii runtime relays its messages as jsii-runtime-go starts
// it, and in three workers, whose kernels run without the relay
// (internal/jsiienv). The assemblies hold the same files, and the
// templates, asset manifests, assets, manifest.json, tree.json, the stacks'
// metadata and the evidence packs are the same byte for byte; the
// validation report holds the same findings. The CDK CLI lists the same
// stacks from both.
func TestShardedSynthesisEqualsOneProcess(t *testing.T) {
	if testing.Short() {
		t.Skip("synthesizes the estate twice through the app binary")
	}
	root, err := estate.ProjectRoot()
	if err != nil {
		t.Fatal(err)
	}
	tmp := t.TempDir()
	manifests := filepath.Join(tmp, "manifests")
	if err := os.MkdirAll(manifests, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, b := range estategen.Generate(12, 3) {
		if name == "studio.yaml" {
			b = shardedShape.studio(b)
		}
		if err := os.WriteFile(filepath.Join(manifests, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	app := filepath.Join(tmp, "app")
	if out, err := exec.Command("go", "build", "-o", app, filepath.Join(root, "bin", "app")).CombinedOutput(); err != nil {
		t.Fatalf("go build ./bin/app: %v\n%s", err, out)
	}
	synth := func(workers int, kernel string) string {
		out := filepath.Join(tmp, fmt.Sprintf("workers-%d", workers))
		cmd := exec.Command(app)
		cmd.Dir = root
		cmd.Env = append(os.Environ(), "CDK_OUTDIR="+out, "RENDERENV_MANIFESTS="+manifests, jsiienv.KernelEnv+"="+kernel,
			fmt.Sprintf("%s=%d", shard.EnvWorkers, workers), "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION=20")
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("the app with %d worker(s): %v\n%s", workers, err, b)
		}
		return out
	}
	one, three := synth(1, jsiienv.KernelRelay), synth(3, jsiienv.KernelDirect)
	a, b := assemblyFiles(t, one), assemblyFiles(t, three)
	if !slices.Equal(slices.Sorted(maps.Keys(a)), slices.Sorted(maps.Keys(b))) {
		t.Fatalf("the assemblies hold different files:\none process: %v\nthree workers: %v", slices.Sorted(maps.Keys(a)), slices.Sorted(maps.Keys(b)))
	}
	compared := 0
	for name, x := range a {
		y := b[name]
		if name == "validation-report.json" {
			x, y = reportFindings(t, x), reportFindings(t, y)
		}
		if !bytes.Equal(x, y) {
			t.Errorf("%s differs between one process and three workers", name)
		}
		compared++
	}
	t.Logf("compared %d files", compared)
	if ls1, ls3 := cdkList(t, root, one), cdkList(t, root, three); ls1 != ls3 || ls1 == "" {
		t.Errorf("cdk ls lists\n%s\nfrom one process and\n%s\nfrom three workers", ls1, ls3)
	}
}

// assemblyFiles reads every file below dir, by relative path.
func assemblyFiles(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		out[rel], err = os.ReadFile(path)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// reportFindings are a validation report's findings, sorted: the merged
// report groups them as one process does, in another order within a rule.
func reportFindings(t *testing.T, b []byte) []byte {
	t.Helper()
	var r struct {
		PluginReports []struct {
			PluginName, Conclusion           string
			Violations, SuppressedViolations []json.RawMessage
		}
	}
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, p := range r.PluginReports {
		for _, v := range append(p.Violations, p.SuppressedViolations...) {
			lines = append(lines, p.PluginName+" "+p.Conclusion+" "+string(v))
		}
	}
	slices.Sort(lines)
	return []byte(strings.Join(lines, "\n"))
}

// cdkList is what the pinned CDK CLI lists from an assembly.
func cdkList(t *testing.T, root, assembly string) string {
	t.Helper()
	cmd := exec.Command(filepath.Join(root, "node_modules", ".bin", "cdk"), "ls", "--app", assembly, "--no-notices")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CDK_DISABLE_VERSION_CHECK=true", "CDK_DISABLE_CLI_TELEMETRY=true", "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION=20")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("cdk ls --app %s: %v", assembly, err)
	}
	return strings.TrimSpace(string(out))
}
