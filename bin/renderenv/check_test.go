package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/renderenv/renderenv/internal/cfn"
	"github.com/renderenv/renderenv/internal/fixtures"
	"github.com/renderenv/renderenv/internal/manifest"
	"github.com/renderenv/renderenv/internal/rules"
)

// The check and controls tests synthesize the acme fixture estate once
// (through jsii, so Node.js is needed) and keep the assembly's files in
// memory: each check test gets a folder of its own to edit, and each run of
// controls reads the templates afresh.
var (
	assemblyOnce  sync.Once
	assemblyFiles map[string][]byte
	assemblyErr   error
)

func synthesizeAssembly() (map[string][]byte, error) {
	e, errs := manifest.LoadDir(fixtures.AcmeDir())
	if len(errs) > 0 {
		return nil, errs[0]
	}
	out, err := os.MkdirTemp("", "renderenv-check-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(out)
	if err := synthesizeInto(e, out); err != nil {
		return nil, err
	}
	names, err := filepath.Glob(filepath.Join(out, "*.json"))
	if err != nil {
		return nil, err
	}
	files := map[string][]byte{}
	for _, name := range names {
		if files[filepath.Base(name)], err = os.ReadFile(name); err != nil {
			return nil, err
		}
	}
	return files, nil
}

// writeAssembly writes the acme estate's cloud assembly into dir.
func writeAssembly(dir string) error {
	assemblyOnce.Do(func() { assemblyFiles, assemblyErr = synthesizeAssembly() })
	if assemblyErr != nil {
		return fmt.Errorf("synthesizing the acme estate: %w", assemblyErr)
	}
	for name, data := range assemblyFiles {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// shippedAssembly writes the acme estate's cloud assembly into a temporary
// folder and returns it.
func shippedAssembly(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if err := writeAssembly(dir); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestCheckPassesTheShippedEstate(t *testing.T) {
	dir := shippedAssembly(t)
	code, stdout, stderr := runCLI("check", dir)
	stacks := 0
	for name := range assemblyFiles {
		if strings.HasSuffix(name, ".template.json") {
			stacks++
		}
	}
	if want := fmt.Sprintf("renderenv check: 0 findings in %d stacks\n", stacks); code != 0 || stdout != "" || stderr != want {
		t.Errorf("renderenv check %s = %d\nstdout: %s\nstderr: %q\nwant 0, no output and stderr %q", dir, code, stdout, stderr, want)
	}
	code, stdout, _ = runCLI("check", "--format", "json", dir)
	if code != 0 || stdout != "[]\n" {
		t.Errorf("renderenv check --format json = %d, %q; want 0 and []", code, stdout)
	}
}

// template is one template of an assembly folder, to edit.
type template struct {
	t    *testing.T
	path string
	body map[string]any
}

func openTemplate(t *testing.T, dir, stack string) *template {
	t.Helper()
	path := filepath.Join(dir, stack+".template.json")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	st, err := cfn.ParseTemplate(stack, data)
	if err != nil {
		t.Fatal(err)
	}
	return &template{t: t, path: path, body: st.Raw}
}

func (tpl *template) resources() map[string]any { return tpl.body["Resources"].(map[string]any) }

// first returns the logical id and properties of the first resource (by
// logical id) of type typ for which ok holds.
func (tpl *template) first(typ string, ok func(props map[string]any) bool) (string, map[string]any) {
	tpl.t.Helper()
	var best string
	for id, r := range tpl.resources() {
		m := r.(map[string]any)
		props, _ := m["Properties"].(map[string]any)
		if m["Type"] == typ && (ok == nil || ok(props)) && (best == "" || id < best) {
			best = id
		}
	}
	if best == "" {
		tpl.t.Fatalf("%s has no %s to break", filepath.Base(tpl.path), typ)
	}
	return best, tpl.resources()[best].(map[string]any)["Properties"].(map[string]any)
}

func (tpl *template) save() {
	tpl.t.Helper()
	data, err := json.Marshal(tpl.body)
	if err != nil {
		tpl.t.Fatal(err)
	}
	if err := os.WriteFile(tpl.path, data, 0o644); err != nil {
		tpl.t.Fatal(err)
	}
}

func obj(v any) map[string]any { return v.(map[string]any) }

func statements(doc any) []any { return obj(doc)["Statement"].([]any) }

// grantsDecrypt matches a key policy statement that allows kms:Decrypt.
func grantsDecrypt(st any) bool {
	m := obj(st)
	actions, _ := json.Marshal(m["Action"])
	return m["Effect"] == "Allow" && strings.Contains(string(actions), `"kms:Decrypt"`)
}

// A studio that edits one property of a synthesized template sees at once
// which rule it broke: each fault below breaks one security property of the
// shipped estate and must be reported, by the rule that owns it, against
// the resource it broke, and by no other rule.
func TestCheckFlagsEachInjectedFault(t *testing.T) {
	const prod, link = "acme-nightfall", "acme-nightfall-link"
	for _, tc := range []struct {
		name, rule, stack string
		inject            func(tpl *template) string // returns the broken logical id
	}{
		{"IMDSv1", "RE-RND-001", prod, func(tpl *template) string {
			id, p := tpl.first("AWS::EC2::LaunchTemplate", nil)
			obj(obj(p["LaunchTemplateData"])["MetadataOptions"])["HttpTokens"] = "optional"
			return id
		}},
		{"public IP", "RE-RND-002", prod, func(tpl *template) string {
			id, p := tpl.first("AWS::EC2::LaunchTemplate", nil)
			obj(obj(p["LaunchTemplateData"])["NetworkInterfaces"].([]any)[0])["AssociatePublicIpAddress"] = true
			return id
		}},
		{"route to an internet gateway", "RE-NET-003", prod, func(tpl *template) string {
			id, p := tpl.first("AWS::EC2::Route", nil)
			delete(p, "TransitGatewayId")
			p["GatewayId"] = "igw-0123456789abcdef0"
			return id
		}},
		{"wildcard key user", "RE-KEY-003", prod, func(tpl *template) string {
			id, p := tpl.first("AWS::KMS::Key", func(p map[string]any) bool {
				for _, st := range statements(p["KeyPolicy"]) {
					if grantsDecrypt(st) {
						return true
					}
				}
				return false
			})
			for _, st := range statements(p["KeyPolicy"]) {
				if grantsDecrypt(st) {
					delete(obj(st), "Condition")
					break
				}
			}
			return id
		}},
		{"production route table learns another production", "RE-NET-005", link, func(tpl *template) string {
			_, assoc := tpl.first("AWS::EC2::TransitGatewayRouteTableAssociation", nil)
			tpl.resources()["InjectedLeak"] = map[string]any{
				"Type": "AWS::EC2::TransitGatewayRouteTablePropagation",
				"Properties": map[string]any{
					"TransitGatewayAttachmentId": assoc["TransitGatewayAttachmentId"],
					"TransitGatewayRouteTableId": assoc["TransitGatewayRouteTableId"],
				},
			}
			return "InjectedLeak"
		}},
		{"unencrypted volume", "RE-RND-004", prod, func(tpl *template) string {
			id, p := tpl.first("AWS::EC2::LaunchTemplate", nil)
			obj(obj(obj(p["LaunchTemplateData"])["BlockDeviceMappings"].([]any)[0])["Ebs"])["Encrypted"] = false
			return id
		}},
		{"bucket without TLS only", "RE-STO-002", prod, func(tpl *template) string {
			_, p := tpl.first("AWS::S3::BucketPolicy", nil)
			var keep []any
			for _, st := range statements(p["PolicyDocument"]) {
				if b, _ := json.Marshal(st); !strings.Contains(string(b), "aws:SecureTransport") {
					keep = append(keep, st)
				}
			}
			obj(p["PolicyDocument"])["Statement"] = keep
			return obj(p["Bucket"])["Ref"].(string)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := shippedAssembly(t)
			tpl := openTemplate(t, dir, tc.stack)
			id := tc.inject(tpl)
			tpl.save()
			code, stdout, stderr := runCLI("check", dir)
			want := tc.stack + "/" + id + ": " + tc.rule + ": "
			lines := strings.Split(strings.TrimSuffix(stdout, "\n"), "\n")
			found := false
			for _, line := range lines {
				found = found || strings.HasPrefix(line, want)
				if !strings.Contains(line, ": "+tc.rule+": ") {
					t.Errorf("the fault also breaks another rule: %s", line)
				}
			}
			if code != 1 || !found || !strings.HasPrefix(stderr, fmt.Sprintf("renderenv check: %d finding", len(lines))) {
				t.Errorf("renderenv check = %d\nstdout:\n%s\nstderr: %s\nwant 1 and a line starting %q", code, stdout, stderr, want)
			}
			code, stdout, _ = runCLI("check", "--format", "json", dir)
			var got []rules.Finding
			if err := json.Unmarshal([]byte(stdout), &got); code != 1 || err != nil || len(got) != len(lines) || got[0].Rule != tc.rule || got[0].Stack != tc.stack {
				t.Errorf("renderenv check --format json = %d, %v\n%s", code, err, stdout)
			}
		})
	}
}

func TestCheckUnreadableAssemblies(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "cdk.out")
	broken := t.TempDir()
	if err := os.WriteFile(filepath.Join(broken, "manifest.json"), []byte(`{"artifacts": {"s": {"type": "aws:cloudformation:stack", "properties": {"templateFile": "s.template.json"}}}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, dir, want string
	}{
		{"missing", missing, missing + ": no cloud assembly here (no manifest.json); run cdk synth first"},
		{"missing template", broken, "s.template.json"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := runCLI("check", tc.dir)
			if code != 2 || stdout != "" || !strings.HasPrefix(stderr, "renderenv check: ") || !strings.Contains(stderr, tc.want) ||
				strings.Contains(stderr, "goroutine") || strings.Count(stderr, "\n") != 1 {
				t.Errorf("renderenv check %s = %d\nstdout: %q\nstderr: %q\nwant 2 and one line naming %q", tc.dir, code, stdout, stderr, tc.want)
			}
		})
	}
}

func TestCheckUsage(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"check", "--format", "yaml"}, `renderenv check: --format "yaml": use text or json`},
		{[]string{"check", "a", "b"}, "renderenv check: one assembly folder at most"},
		{[]string{"check", "--nope"}, "renderenv check: flag provided but not defined: -nope"},
	} {
		code, stdout, stderr := runCLI(tc.args...)
		first, _, _ := strings.Cut(stderr, "\n")
		if code != 2 || stdout != "" || first != tc.want || !strings.Contains(stderr, "renderenv check [--format") {
			t.Errorf("renderenv %s = %d\nstdout: %q\nstderr: %q\nwant 2 and %q with the usage", strings.Join(tc.args, " "), code, stdout, stderr, tc.want)
		}
	}
}

func TestCheckListsTheRules(t *testing.T) {
	code, stdout, stderr := runCLI("check", "--rules")
	lines := strings.Split(strings.TrimSuffix(stdout, "\n"), "\n")
	if code != 0 || stderr != "" || len(lines) != len(rules.All()) {
		t.Fatalf("renderenv check --rules = %d, %d lines (want %d)\nstderr: %s", code, len(lines), len(rules.All()), stderr)
	}
	for i, r := range rules.All() {
		if want := r.ID + "\t" + strings.Join(r.Controls, ", ") + "\t" + r.Description; lines[i] != want {
			t.Errorf("line %d: %q, want %q", i+1, lines[i], want)
		}
	}
}
