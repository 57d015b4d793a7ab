package estate_test

import (
	"cmp"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/renderenv/renderenv/internal/cdktest"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/cxapi"

	"github.com/renderenv/renderenv/internal/estate"
	"github.com/renderenv/renderenv/internal/fixtures"
	"github.com/renderenv/renderenv/internal/manifest"
)

func TestMain(m *testing.M) { cdktest.Main(m) }

// shipped is the acme fixture estate built once with cdk-nag and the suppressions.
var shipped struct {
	once sync.Once
	est  *estate.Estate
	app  awscdk.App
	asm  cxapi.CloudAssembly
	used map[int]int
	dir  string
	err  error
}

func synthShipped(t *testing.T) {
	t.Helper()
	shipped.once.Do(func() {
		dir, err := os.MkdirTemp("", "renderenv-estate-*")
		if err != nil {
			shipped.err = err
			return
		}
		app, err := estate.NewApp("../..", dir)
		if err != nil {
			shipped.err = err
			return
		}
		e, errs := manifest.LoadDir(fixtures.AcmeDir())
		if len(errs) > 0 {
			shipped.err = errs
			return
		}
		est, err := estate.BuildWith(app, e, estate.Options{Checks: true})
		if err != nil {
			shipped.err = err
			return
		}
		shipped.used = est.SuppressionUse
		shipped.est, shipped.app, shipped.dir = est, app, dir
		shipped.asm = app.Synth(nil)
	})
	if shipped.err != nil {
		t.Fatalf("synthesizing the shipped estate: %v", shipped.err)
	}
}

func TestShippedEstateHasNoUnsuppressedNagFindings(t *testing.T) {
	synthShipped(t)
	for _, f := range estate.Errors(shipped.asm) {
		t.Errorf("unsuppressed cdk-nag finding: %s", f)
	}
}

func TestEverySuppressionIsUsed(t *testing.T) {
	synthShipped(t)
	piped := pipelineEstate(t)
	for i, s := range estate.Suppressions {
		if shipped.used[i]+piped.SuppressionUse[i] == 0 {
			t.Errorf("suppression %s on %s matches no resource of the shipped estate, with or without the pipeline: remove it", s.Rule, s.Path)
		}
	}
}

func TestEverySuppressionHasAReasonAndIsInTheReadme(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range estate.Suppressions {
		if len(s.Reason) < 40 {
			t.Errorf("suppression %s on %s: reason %q is too thin to review", s.Rule, s.Path, s.Reason)
		}
		if row := readmeRow(s); !strings.Contains(string(readme), row+"\n") {
			t.Errorf("README does not list the suppression; its row in the Policy checks table must read:\n%s", row)
		}
	}
}

func TestStacksHaveExplicitEnvironmentsAndNames(t *testing.T) {
	synthShipped(t)
	want := []string{
		"acme-logging", "acme-network", "acme-pool-555555555555", "acme-brightside", "acme-harbour",
		"acme-lighthouse", "acme-nightfall", "acme-harbour-link", "acme-lighthouse-link",
		"acme-nightfall-link", "acme-pool-555555555555-link", "acme-nightfall-dr", "acme-nightfall-exchange",
	}
	got := map[string]cxapi.CloudFormationStackArtifact{}
	for _, st := range *shipped.asm.Stacks() {
		got[*st.StackName()] = st
	}
	if len(got) != len(want) {
		t.Errorf("got %d stacks, want %d", len(got), len(want))
	}
	accounts := map[string]string{
		"acme-logging": "222222222222", "acme-network": "111111111111", "acme-nightfall": "333333333333",
		"acme-harbour": "444444444444", "acme-brightside": "555555555555", "acme-pool-555555555555": "555555555555",
		"acme-nightfall-link": "111111111111", "acme-nightfall-dr": "333333333333", "acme-nightfall-exchange": "121212121212",
	}
	// The DR copy is in nightfall's ingest.drRegion.
	regions := map[string]string{"acme-nightfall-dr": "us-east-2"}
	for _, name := range want {
		st, ok := got[name]
		if !ok {
			t.Errorf("stack %s missing", name)
			continue
		}
		env := st.Environment()
		if want := cmp.Or(regions[name], "us-west-2"); *env.Region != want {
			t.Errorf("%s: region %s, want %s", name, *env.Region, want)
		}
		if a, ok := accounts[name]; ok && *env.Account != a {
			t.Errorf("%s: account %s, want %s", name, *env.Account, a)
		}
	}
}

func TestAvailabilityZonesAreSeededNotLookedUp(t *testing.T) {
	synthShipped(t)
	for _, st := range *shipped.asm.Stacks() {
		for _, m := range *st.Messages() {
			if d, ok := m.Entry.Data.(*string); ok && strings.Contains(*d, "dummy") {
				t.Errorf("%s: %s", *st.StackName(), *d)
			}
		}
	}
	data, err := os.ReadFile(filepath.Join(shipped.dir, "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	var m struct {
		Missing []struct{ Key string } `json:"missing"`
	}
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	for _, miss := range m.Missing {
		t.Errorf("synthesis wanted a context look-up: %s", miss.Key)
	}
}

func TestOnlyBuildsSharedStacksAndNamedProductions(t *testing.T) {
	app, err := estate.NewApp("../..", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	e, errs := manifest.LoadDir(fixtures.AcmeDir())
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	est, err := estate.Build(app, e, []string{"brightside"})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, st := range est.Stacks() {
		names = append(names, *st.StackName())
	}
	want := "acme-logging acme-network acme-pool-555555555555 acme-brightside acme-pool-555555555555-link"
	if got := strings.Join(names, " "); got != want {
		t.Errorf("only=brightside built %q, want %q", got, want)
	}
}

func TestOnlyRejectsUnknownProduction(t *testing.T) {
	app, err := estate.NewApp("../..", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	e, _ := manifest.LoadDir(fixtures.AcmeDir())
	_, err = estate.Build(app, e, []string{"nightfall", "nosuch"})
	if err == nil || err.Error() != `context: only: no production named "nosuch"` {
		t.Errorf("got %v", err)
	}
}

func TestParseOnly(t *testing.T) {
	for in, want := range map[any]string{"a,b": "a b", " a , ,b ": "a b", "": "", nil: ""} {
		if got := strings.Join(estate.ParseOnly(in), " "); got != want {
			t.Errorf("ParseOnly(%q) = %q, want %q", in, got, want)
		}
	}
	if got := strings.Join(estate.ParseOnly([]any{"a", "b,c"}), " "); got != "a b c" {
		t.Errorf("list: %q", got)
	}
}

// readmeRow is a suppression's row in the README's Policy checks table.
func readmeRow(s estate.Suppression) string {
	code := func(v string) string { return "`" + strings.ReplaceAll(v, "|", `\|`) + "`" }
	var applies []string
	for _, a := range s.AppliesTo {
		applies = append(applies, code(a))
	}
	return fmt.Sprintf("| `%s` | %s | %s | %s |", s.Rule, code(s.Path.String()), strings.Join(applies, ", "), s.Reason)
}
