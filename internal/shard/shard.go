// Package shard splits the synthesis of a large estate across worker
// processes, one jsii runtime each, and merges their cloud assemblies into
// the one a single process would have written, byte for byte.
//
// Productions are independent stacks: ids travel through SSM Parameter
// Store and names are fixed, so a production needs nothing of another
// production, nor of the shared stacks beyond the dependency on them. The
// parent process starts no jsii runtime: its first worker builds the
// shared stacks once, with its productions, into the CLI's assembly
// folder; each other worker builds its productions (with their pools and
// links) beside empty stand-ins of the shared stacks that carry the
// dependencies; Merge then moves the other workers' templates, asset
// manifests and metadata into the first one's assembly and writes its
// manifest.json and tree.json in the order a single process creates the
// stacks.
package shard

import (
	"fmt"
	"runtime"
	"slices"
	"strconv"
	"strings"

	"github.com/renderenv/renderenv/internal/manifest"
)

// Settings and files of a sharded synthesis.
const (
	// EnvWorkers sets the number of worker processes (1: no sharding); the
	// CDK context key workers does the same and wins.
	EnvWorkers = "RENDERENV_SYNTH_WORKERS"
	// EnvProductions, set by the parent, makes the app a worker that
	// builds the productions it lists (comma-separated).
	EnvProductions = "RENDERENV_SHARD_PRODUCTIONS"
	// EnvShared, set by the parent for its first worker, has the worker
	// build the shared stacks as well.
	EnvShared = "RENDERENV_SHARD_SHARED"
	// EnvOutdir is where the CDK CLI has the app write its assembly.
	EnvOutdir = "CDK_OUTDIR"
	// PartFile is what a worker writes beside its assembly: the stacks of
	// each of its productions, in the order it created them.
	PartFile = "renderenv-part.json"
	// MinProductions is the smallest estate sharded when the number of
	// workers is not set: below it, starting a second jsii runtime costs
	// more than it saves.
	MinProductions = 16
	// MaxWorkers bounds the workers one synthesis starts (each is a Node.js
	// process holding its productions' constructs).
	MaxWorkers = 64
)

// Workers is how many worker processes synthesize an estate of productions
// productions: setting ("" when unset) names the number, else one per CPU
// for an estate of at least MinProductions productions, else 1. Never more
// than there are productions.
func Workers(setting string, productions, cpus int) (int, error) {
	n := cpus
	if setting != "" {
		v, err := strconv.Atoi(strings.TrimSpace(setting))
		if err != nil || v < 1 || v > MaxWorkers {
			return 0, fmt.Errorf("workers is %q: want a whole number from 1 to %d", setting, MaxWorkers)
		}
		n = v
	} else if productions < MinProductions {
		n = 1
	}
	return max(1, min(n, productions)), nil
}

// CPUs is the number of CPUs this process may use.
func CPUs() int { return runtime.GOMAXPROCS(0) }

// Plan splits the productions, in manifest order, across at most workers
// parts. The productions that share a pool go to the same part, so that
// each pool stack is built once; parts are filled largest group first,
// each into the part with the fewest productions, and list their
// productions in manifest order.
func Plan(resolved []manifest.Resolved, workers int) [][]string {
	type group struct {
		first int
		names []string
	}
	var groups []*group
	byPool := map[string]*group{}
	for i, r := range resolved {
		key := ""
		if r.Pool != nil && (r.PooledVpc || r.PooledRootKey || r.PooledAssetKey || r.PooledLoggingKey) {
			key = r.Pool.Account + "/" + r.Pool.Region
		}
		g := byPool[key]
		if g == nil || key == "" {
			g = &group{first: i}
			groups = append(groups, g)
			if key != "" {
				byPool[key] = g
			}
		}
		g.names = append(g.names, r.Name)
	}
	slices.SortStableFunc(groups, func(a, b *group) int { return len(b.names) - len(a.names) })
	parts := make([][]int, max(1, min(workers, len(groups))))
	index := map[string]int{}
	for i, r := range resolved {
		index[r.Name] = i
	}
	for _, g := range groups {
		least := 0
		for p := range parts {
			if len(parts[p]) < len(parts[least]) {
				least = p
			}
		}
		for _, n := range g.names {
			parts[least] = append(parts[least], index[n])
		}
	}
	out := make([][]string, len(parts))
	for p, idx := range parts {
		slices.Sort(idx)
		for _, i := range idx {
			out[p] = append(out[p], resolved[i].Name)
		}
	}
	return out
}
