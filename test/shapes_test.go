package test

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"go/types"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/renderenv/renderenv/internal/estategen"
	"github.com/renderenv/renderenv/internal/manifest"
)

// Every studio shape works: each studio option that changes what is
// generated is on in some estates and off in others, and every pair of
// options meets in all four combinations. Each shape is synthesized once,
// with cdk-nag as the app runs it, and checked by the rule set, the Go
// checks and the reachability proof.

// option is a studio option that changes what is generated.
type option int

const (
	organization option = iota // organizationId
	logArchive                 // logArchiveAccount apart from the management account
	vpn                        // onPremises.vpn
	pools                      // pools, with a pooled Tier 3 production
	pinnedTgw                  // transitGatewayId instead of the deploy-time look-up
	alerts                     // alerts.emails
	pipeline                   // pipeline.enabled
	exchange                   // exchangeAccount, vendors and ingest of the Tier 1 production
	optionCount
)

var optionNames = [optionCount]string{"organization", "log-archive", "vpn", "pools", "pinned-tgw", "alerts", "pipeline", "exchange"}

// shapeRows is a covering array of strength 2: for any two options, each of
// the four on/off combinations is in some row. Six rows is the least that
// can do it for up to ten two-level options (here eight). The construction: row 0 has every
// option off; each option's column is a different 3-subset of rows 1 to 5.
// Two such subsets always share a row (on, on) and neither holds the other
// (on, off and off, on); row 0 gives (off, off).
// TestStudioShapesCoverEveryPairOfOptions proves it of the rows as written.
// The rows without the pipeline include a studio without an organization
// but with its own log-archive account, which the dependency test reads.
var shapeRows = []string{
	// organization, log-archive, vpn, pools, pinned-tgw, alerts, pipeline, exchange
	"00000000", // a studio with every optional field left out
	"01111001",
	"11100101",
	"10110010",
	"10001111",
	"01011110",
}

// studioShape says which options a studio turns on.
type studioShape [optionCount]bool

func parseShape(row string) studioShape {
	var sh studioShape
	if len(row) != int(optionCount) || strings.Trim(row, "01") != "" {
		panic(fmt.Sprintf("shape row %q: want %d digits 0 or 1", row, optionCount))
	}
	for i := range sh {
		sh[i] = row[i] == '1'
	}
	return sh
}

func (sh studioShape) String() string {
	var on []string
	for o, set := range sh {
		if set {
			on = append(on, optionNames[o])
		}
	}
	if len(on) == 0 {
		return "shape-bare"
	}
	return "shape-" + strings.Join(on, "+")
}

// studioShapes returns the estates of shapeRows.
func studioShapes() []estateSpec {
	out := make([]estateSpec, len(shapeRows))
	for i, row := range shapeRows {
		sh := parseShape(row)
		out[i] = estateSpec{name: sh.String(), files: sh.files, nag: true}
	}
	return out
}

// shapeExchangeAccount holds the shapes' exchange stacks.
const shapeExchangeAccount = "121212121212"

// shapeProductions: p0001 is Tier 1 in an account of its own, p0002 Tier 2
// and p0003 Tier 3 in a shared account (p0003 joins the account's pool).
const shapeProductions = 3

// files writes the shape's manifests: estategen's estate with the studio
// options turned on or off as a user would edit studio.yaml.
func (sh studioShape) files() map[string][]byte {
	files := estategen.Generate(shapeProductions, 1)
	files["studio.yaml"] = sh.studio(files["studio.yaml"])
	if sh[exchange] {
		files["studio.yaml"] = editYAML(files["studio.yaml"], func(st yamlMap) { st.set("exchangeAccount", shapeExchangeAccount) })
		tier1 := estategen.Name(0) + ".yaml"
		files[tier1] = editYAML(files[tier1], func(p yamlMap) {
			p.set("vendors", []map[string]any{
				{"name": "grade", "account": "131313131313", "access": "read", "until": "2026-06-30"},
				{"name": "finish", "account": "141414141414", "access": "write", "until": "2026-06-30"},
			})
			if !sh[pipeline] {
				// The pipeline refuses ingest: its DR stack is in another
				// region (see the manifest's ingest rules).
				p.set("ingest", map[string]any{"drRegion": "us-east-2", "archiveAfterDays": 60})
			}
		})
	}
	if !sh[pools] {
		// Without a pool the Tier 3 production asks for a VPC of its own,
		// in the range the pool would have had.
		tier3 := estategen.Name(2) + ".yaml"
		files[tier3] = editYAML(files[tier3], func(p yamlMap) {
			p.set("vpcCidr", estategen.PoolCidr(0).String())
			p.set("isolation", map[string]any{"dedicatedVpc": true})
		})
	}
	return files
}

// studio is a generated studio.yaml with the shape's studio options
// turned on or off (all but the exchange, which also edits a production).
func (sh studioShape) studio(data []byte) []byte {
	return editYAML(data, func(st yamlMap) {
		if !sh[organization] {
			st.remove("organizationId")
			st.remove("organizationManagementAccount")
		}
		if !sh[logArchive] {
			st.remove("logArchiveAccount")
		}
		if !sh[vpn] {
			st.child("onPremises").remove("vpn")
		}
		if !sh[pools] {
			st.remove("pools")
		}
		if sh[pinnedTgw] {
			st.set("transitGatewayId", "tgw-0123456789abcdef0")
		}
		if !sh[alerts] {
			st.remove("alerts")
		}
		if sh[pipeline] {
			st.set("pipeline", map[string]any{
				"enabled":       true,
				"connectionArn": "arn:aws:codeconnections:" + estategen.Region + ":" + estategen.ManagementAccount + ":connection/0123abcd-4567-89ab-cdef-0123456789ab",
				"repository":    "acme/render-estate",
				"branch":        "main",
			})
		}
	})
}

// editYAML edits a manifest's top-level mapping in place, keeping
// everything else (dates, quoting, comments) as written.
func editYAML(data []byte, edit func(m yamlMap)) []byte {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		panic(err)
	}
	edit(yamlMap{doc.Content[0]})
	out, err := yaml.Marshal(&doc)
	if err != nil {
		panic(err)
	}
	return out
}

// yamlMap is a YAML mapping node.
type yamlMap struct{ *yaml.Node }

func (m yamlMap) index(key string) int {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return i
		}
	}
	return -1
}

// child is the mapping under key, which must exist.
func (m yamlMap) child(key string) yamlMap { return yamlMap{m.Content[m.index(key)+1]} }

func (m yamlMap) remove(key string) {
	if i := m.index(key); i >= 0 {
		m.Content = slices.Delete(m.Content, i, i+2)
	}
}

func (m yamlMap) set(key string, v any) {
	var val yaml.Node
	if err := val.Encode(v); err != nil {
		panic(err)
	}
	m.remove(key)
	m.Content = append(m.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: key}, &val)
}

// has reports whether the loaded manifests turn option o on: the shape as a
// user's studio.yaml states it, read back through the manifest loader.
func has(e *manifest.Estate, o option) bool {
	s := &e.Studio
	switch o {
	case organization:
		return s.OrganizationID != ""
	case logArchive:
		return s.LogArchive() != s.ManagementAccount
	case vpn:
		return s.OnPremises.Vpn != nil
	case pools:
		return len(s.Pools) > 0 && slices.ContainsFunc(e.Resolved(), func(r manifest.Resolved) bool { return r.PooledVpc })
	case pinnedTgw:
		return s.TransitGatewayID != ""
	case alerts:
		return len(s.Alerts.Emails) > 0
	case pipeline:
		return s.Pipeline.Enabled
	case exchange:
		return s.ExchangeAccount != "" && slices.ContainsFunc(e.Productions, func(p manifest.ProductionFile) bool { return len(p.Vendors) > 0 })
	}
	panic(fmt.Sprintf("unknown option %d", o))
}

// TestStudioShapesCoverEveryPairOfOptions keeps the covering array honest:
// every pair of options meets in all four combinations, and every shape's
// manifests validate and state the options its row claims (so a renamed
// field cannot quietly turn an option off everywhere).
func TestStudioShapesCoverEveryPairOfOptions(t *testing.T) {
	shapes := make([]studioShape, len(shapeRows))
	for i, row := range shapeRows {
		shapes[i] = parseShape(row)
	}
	for a := range optionCount {
		for b := a + 1; b < optionCount; b++ {
			seen := map[[2]bool]bool{}
			for _, sh := range shapes {
				seen[[2]bool{sh[a], sh[b]}] = true
			}
			for _, combo := range [][2]bool{{false, false}, {false, true}, {true, false}, {true, true}} {
				if !seen[combo] {
					t.Errorf("no shape has %s=%t with %s=%t", optionNames[a], combo[0], optionNames[b], combo[1])
				}
			}
		}
	}
	for i, spec := range studioShapes() {
		t.Run(spec.name, func(t *testing.T) {
			dir := t.TempDir()
			for name, data := range spec.files() {
				if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			e, errs := manifest.LoadDir(dir)
			if len(errs) > 0 {
				t.Fatalf("the manifests do not validate:\n%s", errs.Error())
			}
			for o := range optionCount {
				if has(e, o) != shapes[i][o] {
					t.Errorf("%s: the manifests have it %t, the row says %t", optionNames[o], has(e, o), shapes[i][o])
				}
			}
			tiers := map[int64]bool{}
			for _, r := range e.Resolved() {
				tiers[r.Tier] = true
			}
			if len(tiers) != 3 {
				t.Errorf("want productions of tiers 1, 2 and 3, have tiers %v", tiers)
			}
		})
	}
}

// TestEveryStudioShapeSynthesizesCleanly: the app refuses to synthesize
// with an unsuppressed cdk-nag finding, so each one here is a studio that
// cannot be deployed.
func TestEveryStudioShapeSynthesizesCleanly(t *testing.T) {
	eachEstate(t, studioShapes(), func(t *testing.T, s *Synthesized) {
		for _, f := range s.Findings {
			t.Errorf("cdk-nag: %s", f)
		}
		if s.Manifests.Studio.Pipeline.Enabled {
			if !s.Has(s.names().PipelineStack()) {
				t.Errorf("the pipeline is enabled, but no pipeline stack was synthesized (stacks %v)", s.Stacks())
			}
		}
		for _, p := range s.Manifests.Productions {
			if !s.Has(s.names().ProductionStack(p.Name)) {
				t.Errorf("production %s was not synthesized (stacks %v)", p.Name, s.Stacks())
			}
		}
	})
}

// shapeInvariants are the Go checks every studio shape must keep besides
// the rule set: every function of the package with the invariant
// signature, which TestEveryInvariantRunsOnEveryStudioShape checks against
// the source.
var shapeInvariants = []invariant{
	checkEveryProductionIsBuiltAsItsManifestAsks,
	checkTemplatesStayWithinCloudFormationLimits,
	checkEveryAccountOfTheEstateIsTrailed,
	checkLogsReachTheLogArchiveWhereThereIsOne,
}

// funcName is the name of a package-level function value.
func funcName(f any) string {
	full := runtime.FuncForPC(reflect.ValueOf(f).Pointer()).Name()
	return full[strings.LastIndex(full, ".")+1:]
}

// TestEveryStudioShapeKeepsEveryInvariant: every rule of the rule set and
// every Go check hold on every shape.
func TestEveryStudioShapeKeepsEveryInvariant(t *testing.T) {
	t.Run("RuleSet", func(t *testing.T) { eachEstate(t, studioShapes(), checkRules) })
	for _, check := range shapeInvariants {
		t.Run(strings.TrimPrefix(funcName(check), "check"), func(t *testing.T) { checkEach(t, studioShapes(), check) })
	}
}

// TestEveryInvariantRunsOnEveryStudioShape: an invariant added to the
// package must be added to shapeInvariants too, or the shapes would
// silently stop being checked against it.
func TestEveryInvariantRunsOnEveryStudioShape(t *testing.T) {
	listed := map[string]bool{}
	for _, check := range shapeInvariants {
		listed[funcName(check)] = true
	}
	paths, err := filepath.Glob("*_test.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	found := 0
	for _, path := range paths {
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range f.Decls {
			fd, ok := d.(*ast.FuncDecl)
			if !ok || fd.Recv != nil || !isInvariant(fd.Type) {
				continue
			}
			found++
			if !listed[fd.Name.Name] {
				t.Errorf("%s: invariant %s is not in shapeInvariants", fset.Position(fd.Pos()), fd.Name.Name)
			}
		}
	}
	if found != len(shapeInvariants) {
		t.Errorf("the package declares %d invariants, shapeInvariants lists %d", found, len(shapeInvariants))
	}
}

// isInvariant reports whether a function has the invariant signature.
func isInvariant(ft *ast.FuncType) bool {
	var params, results []string
	for _, fl := range [...]struct {
		list *ast.FieldList
		into *[]string
	}{{ft.Params, &params}, {ft.Results, &results}} {
		if fl.list == nil {
			continue
		}
		for _, f := range fl.list.List {
			for range max(1, len(f.Names)) {
				*fl.into = append(*fl.into, types.ExprString(f.Type))
			}
		}
	}
	return slices.Equal(params, []string{"*Synthesized", "func(string, ...any)"}) && slices.Equal(results, []string{"findings"})
}

// TestEveryStudioShapeKeepsProductionsApart runs the reachability proof on
// every shape: no production reaches another, and each reaches management
// and on-premises (over the VPN when there is one). That no production VPC
// routes to another production or the internet is the rule set's
// (RE-NET-003, RE-NET-013).
func TestEveryStudioShapeKeepsProductionsApart(t *testing.T) {
	eachEstate(t, studioShapes(), func(t *testing.T, s *Synthesized) {
		g := transitGraphOf(t, s, s.Assembly)
		for _, v := range slices.Concat(g.isolationViolations(), managementAndOnPremisesReach(s, g)) {
			t.Error(v)
		}
	})
}
