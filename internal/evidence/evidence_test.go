package evidence_test

// These tests read real templates: TestMain's helpers synthesize the acme
// fixture estate (internal/fixtures) once per test binary (through jsii, so
// Node.js is needed), and each test works on its own deep copy. The tests
// live in an external package so that the CDK app's packages may import
// evidence without a cycle.

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/aws/jsii-runtime-go"

	"github.com/renderenv/renderenv/internal/cfn"
	"github.com/renderenv/renderenv/internal/estate"
	"github.com/renderenv/renderenv/internal/evidence"
	"github.com/renderenv/renderenv/internal/fixtures"
	"github.com/renderenv/renderenv/internal/manifest"
	"github.com/renderenv/renderenv/internal/rules"
)

func TestMain(m *testing.M) {
	// Node 20 still runs jsii correctly; the banner would drown test output.
	// The jsii client was created with the environment of start-up (its
	// process starts on first use): close it so that the next one sees this.
	if os.Getenv("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION") == "" {
		os.Setenv("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
		jsii.Close()
	}
	code := m.Run()
	jsii.Close()
	for _, s := range synthMap {
		if s.dir != "" {
			os.RemoveAll(s.dir)
		}
	}
	os.Exit(code)
}

const repoRoot = "../.."

// synthesized is one estate's manifests and cloud assembly.
type synthesized struct {
	estate   *manifest.Estate
	assembly *cfn.Assembly
	dir      string // the assembly's folder, removed by TestMain
	err      error
}

var (
	synthMu  sync.Mutex
	synthMap = map[string]*synthesized{}
)

// synth synthesizes the manifests of dir (fixtures.AcmeDir() for the acme
// estate) once per test binary.
func synth(t *testing.T, dir string) *synthesized {
	t.Helper()
	if dir == "" {
		t.Fatal("synth: name a manifest folder such as fixtures.AcmeDir(); productions/ is the studio's")
	}
	if testing.Short() {
		t.Skip("synthesizes the estate through jsii (Node.js); skipped with -short")
	}
	synthMu.Lock()
	defer synthMu.Unlock()
	if s, ok := synthMap[dir]; ok {
		if s.err != nil {
			t.Fatal(s.err)
		}
		return s
	}
	s := &synthesized{}
	synthMap[dir] = s
	s.err = func() (err error) {
		defer func() {
			if r := recover(); r != nil {
				err = fmt.Errorf("synthesis panicked (is Node.js installed?): %v", r)
			}
		}()
		e, errs := manifest.LoadDir(dir)
		if len(errs) > 0 {
			return errs
		}
		out, err := os.MkdirTemp("", "evidence-synth-")
		if err != nil {
			return err
		}
		s.dir = out
		app, err := estate.NewApp(repoRoot, out)
		if err != nil {
			return err
		}
		if _, err := estate.Synthesize(app, e, estate.Options{}); err != nil {
			return err
		}
		if s.assembly, err = cfn.ReadAssembly(out); err != nil {
			return err
		}
		// Keep the estate as loaded: Build may narrow nothing here, but
		// load it again so that tests never share mutable state with it.
		s.estate, errs = manifest.LoadDir(dir)
		if len(errs) > 0 {
			return errs
		}
		return nil
	}()
	if s.err != nil {
		t.Fatal(s.err)
	}
	return s
}

// parsed returns a fresh deep copy of the templates, safe to modify.
func (s *synthesized) parsed(t *testing.T) map[string]map[string]any {
	t.Helper()
	out := map[string]map[string]any{}
	for _, st := range s.assembly.Stacks {
		out[st.Name] = cfn.Clone(st.Raw)
	}
	return out
}

// assembly makes an assembly of templates (parsed, perhaps changed), with
// the accounts, regions, tags and dependencies the synthesized assembly's
// manifest gives each stack.
func (s *synthesized) assemblyOf(t *testing.T, tpls map[string]map[string]any) *cfn.Assembly {
	t.Helper()
	var stacks []*cfn.Stack
	for name, raw := range tpls {
		st := cfn.TemplateFromMap(name, raw)
		if orig := s.assembly.Stack(name); orig != nil {
			st.Account, st.Region, st.Tags, st.Dependencies = orig.Account, orig.Region, orig.Tags, orig.Dependencies
		}
		stacks = append(stacks, st)
	}
	a, err := cfn.NewAssembly(stacks...)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func (s *synthesized) report(t *testing.T, tpls map[string]map[string]any, production string) evidence.Pack {
	t.Helper()
	p, err := evidence.Report(s.assemblyOf(t, tpls), s.estate, production)
	if err != nil {
		t.Fatalf("Report(%s): %v", production, err)
	}
	return p
}

func control(t *testing.T, p evidence.Pack, id string) evidence.Control {
	t.Helper()
	c, ok := p.Control(id)
	if !ok {
		t.Fatalf("the pack of %s has no control %s", p.Production, id)
	}
	return c
}

func checkResult(t *testing.T, c evidence.Control, name string) evidence.CheckResult {
	t.Helper()
	for _, r := range c.Checks {
		if r.Check == name {
			return r
		}
	}
	t.Fatalf("control %s has no check %q", c.ID, name)
	return evidence.CheckResult{}
}

// wantIDs are the controls of the ISE checklist (reference 001), in order.
var wantIDs = []string{
	"1.1", "1.2", "1.3", "1.4", "1.5", "1.6", "1.7",
	"2.1", "2.2", "2.3", "2.4", "2.5", "2.6", "2.7", "2.8",
	"3.1",
	"4.1", "4.2",
	"5.1", "5.2", "5.3",
	"6.1", "6.2", "6.3", "6.4", "6.5", "6.6", "6.7",
	"7.1", "7.2",
	"8.1",
	"9.1", "9.2", "9.3", "9.4", "9.5",
	"10.1", "10.2", "10.3", "10.4", "10.5", "10.6", "10.7", "10.8", "10.9", "10.10", "10.11",
}

// referenceIDs reads the control numbers from the checklist's headings when
// the reference document is present beside the repository.
func referenceIDs(t *testing.T) []string {
	b, err := os.ReadFile(filepath.Join(repoRoot, "..", "shared", "reference", "001_eebe183d8696ed3a.txt"))
	if err != nil {
		return nil
	}
	heading := regexp.MustCompile(`(?m)^(?:\[bookmark: [^\]]*\])+(\d+\.\d+)[ \x{00A0}]+AWS `)
	var ids []string
	for _, m := range heading.FindAllStringSubmatch(string(b), -1) {
		ids = append(ids, m[1])
	}
	return ids
}

func TestEveryControlExactlyOnce(t *testing.T) {
	if ref := referenceIDs(t); ref != nil {
		if strings.Join(ref, " ") != strings.Join(wantIDs, " ") {
			t.Fatalf("the reference's controls changed:\n got %v\nwant %v", ref, wantIDs)
		}
	} else {
		t.Log("reference 001 not found beside the repository; checking against the list in this test")
	}
	if got := evidence.ControlIDs(); strings.Join(got, " ") != strings.Join(wantIDs, " ") {
		t.Errorf("ControlIDs() = %v\nwant %v", got, wantIDs)
	}
	s := synth(t, fixtures.AcmeDir())
	for _, r := range s.estate.Resolved() {
		p := s.report(t, s.parsed(t), r.Name)
		seen := map[string]int{}
		for _, c := range p.Controls {
			seen[c.ID]++
			if c.Title == "" || c.Area == "" || c.How == "" || c.Status == "" {
				t.Errorf("%s %s: empty title, area, how or status: %+v", r.Name, c.ID, c)
			}
			if c.Status == evidence.Studio || c.Status == evidence.Partial {
				if len(c.StudioActions) == 0 && len(c.Problems()) == 0 {
					t.Errorf("%s %s is %s but says nothing about what remains", r.Name, c.ID, c.Status)
				}
			}
			// Every claim names the rules behind it: a control cites every
			// rule that serves it, each with its outcome.
			cited := map[string]bool{}
			for _, rr := range c.Rules {
				cited[rr.ID] = true
				if rr.Outcome != evidence.Pass && rr.Outcome != evidence.Fail || (rr.Outcome == evidence.Fail) != (len(rr.Findings) > 0) {
					t.Errorf("%s %s: rule %s is %s with %d findings", r.Name, c.ID, rr.ID, rr.Outcome, len(rr.Findings))
				}
			}
			for _, rule := range rules.All() {
				if slices.Contains(rule.Controls, c.ID) && !cited[rule.ID] {
					t.Errorf("%s %s (%s) does not cite %s, which serves it", r.Name, c.ID, c.Status, rule.ID)
				}
			}
		}
		for _, id := range wantIDs {
			if seen[id] != 1 {
				t.Errorf("%s: control %s appears %d times", r.Name, id, seen[id])
			}
		}
		if len(p.Controls) != len(wantIDs) {
			t.Errorf("%s: %d controls, want %d", r.Name, len(p.Controls), len(wantIDs))
		}
		sum := p.Summary.Implemented + p.Summary.Partial + p.Summary.Missing + p.Summary.Studio
		if sum != len(wantIDs) {
			t.Errorf("%s: summary counts %d controls, want %d", r.Name, sum, len(wantIDs))
		}
	}
}

// implementedByTemplates reports whether the templates implement a control
// as far as a pack without the access matrix can tell: implemented, or
// partial only because its access check is limited for want of the matrix
// (these tests compute none; test/evidence_access_test.go does).
func implementedByTemplates(c evidence.Control) bool {
	if c.Status == evidence.Implemented {
		return true
	}
	if c.Status != evidence.Partial || c.Scope != "templates" {
		return false
	}
	limited := 0
	for _, r := range c.Checks {
		switch {
		case r.Outcome == evidence.Limited && strings.HasPrefix(r.Check, "the access matrix ") && strings.Contains(r.Detail, "unproven until the access matrix is computed"):
			limited++
		case r.Outcome != evidence.Pass:
			return false
		}
	}
	for _, r := range c.Rules {
		if r.Outcome == evidence.Fail {
			return false
		}
	}
	return limited > 0
}

// TestShippedEstate pins what the acme fixture estate must show: the controls
// renderenv implements are implemented for the Tier 1 production, and the
// tier table's allowances show as limitations, not failures.
func TestShippedEstate(t *testing.T) {
	s := synth(t, fixtures.AcmeDir())
	implemented := []string{"1.1", "1.6", "2.6", "2.7", "4.1", "5.1", "5.2", "5.3", "7.1", "9.1", "9.2", "9.3", "9.4", "9.5", "10.5", "10.6"}
	studio := []string{"1.7", "3.1", "6.1", "6.2", "6.3", "6.4", "6.5", "6.6", "6.7", "7.2", "10.2", "10.3", "10.4", "10.10"}
	// The checklist asks for GuardDuty or AWS Config under 1.3, 2.1 to 2.5
	// and 8.1, which no template deploys: those are partial at best.
	partial := []string{"1.3", "1.4", "1.5", "2.1", "2.2", "2.3", "2.4", "2.5", "2.8", "4.2", "8.1", "10.1", "10.7", "10.8", "10.11"}
	for _, r := range s.estate.Resolved() {
		p := s.report(t, s.parsed(t), r.Name)
		for _, c := range p.Controls {
			if c.Status == evidence.Missing {
				t.Errorf("%s %s is missing: %v", r.Name, c.ID, c.Problems())
			}
			// The shipped templates break nothing they claim: a check
			// fails only when a template does (TestClaimsFlip).
			for _, ch := range c.Checks {
				if ch.Outcome == evidence.Fail {
					t.Errorf("%s %s %q fails: %s", r.Name, c.ID, ch.Check, ch.Detail)
				}
			}
		}
		if r.Name != "nightfall" {
			continue
		}
		for _, want := range []struct {
			ids    []string
			status evidence.Status
		}{{implemented, evidence.Implemented}, {studio, evidence.Studio}, {partial, evidence.Partial}} {
			for _, id := range want.ids {
				if c := control(t, p, id); want.status == evidence.Implemented && !implementedByTemplates(c) || want.status != evidence.Implemented && c.Status != want.status {
					t.Errorf("nightfall %s %s = %s, want %s; problems: %v", id, c.Title, c.Status, want.status, c.Problems())
				}
			}
		}
		for _, id := range implemented {
			if c := control(t, p, id); len(c.Evidence) == 0 {
				t.Errorf("nightfall %s is implemented without evidence", id)
			}
		}
	}

	// The tier table's allowances: limited, with the reason.
	for _, tc := range []struct{ production, control, check, want string }{
		{"brightside", "2.4", "the production has a VPC of its own", "pooled VPC 10.100.0.0/16 of acme-pool-555555555555"},
		{"brightside", "9.1", "the production's data is encrypted with its own keys", "acme-pool-555555555555 / Keys"},
		{"brightside", "1.1", "the production's account is its own", "also holds lighthouse"},
		{"lighthouse", "5.3", "a trail records the asset bucket's object activity", "audit.s3DataEvents: false"},
	} {
		p := s.report(t, s.parsed(t), tc.production)
		c := control(t, p, tc.control)
		r := checkResult(t, c, tc.check)
		if c.Status != evidence.Partial || r.Outcome != evidence.Limited || !strings.Contains(r.Detail, tc.want) {
			t.Errorf("%s %s = %s, check %q = %s %q; want partial, limited, mentioning %q", tc.production, tc.control, c.Status, tc.check, r.Outcome, r.Detail, tc.want)
		}
	}
}

// find returns the logical id and resource of the first resource of a type
// in a template that satisfies ok.
func find(t *testing.T, tpl map[string]any, typ string, ok func(props map[string]any) bool) (string, map[string]any) {
	t.Helper()
	res := tpl["Resources"].(map[string]any)
	ids := make([]string, 0, len(res))
	for id := range res {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		r := res[id].(map[string]any)
		props, _ := r["Properties"].(map[string]any)
		if r["Type"] == typ && (ok == nil || ok(props)) {
			return id, r
		}
	}
	t.Fatalf("no %s in the template", typ)
	return "", nil
}

func props(r map[string]any) map[string]any { return r["Properties"].(map[string]any) }

// ltData is a launch template's LaunchTemplateData.
func ltData(r map[string]any) map[string]any { return props(r)["LaunchTemplateData"].(map[string]any) }

// volumes are a launch template's block device mappings' Ebs settings.
func volumes(r map[string]any) []map[string]any {
	var out []map[string]any
	for _, b := range ltData(r)["BlockDeviceMappings"].([]any) {
		out = append(out, b.(map[string]any)["Ebs"].(map[string]any))
	}
	return out
}

// renderGroup, sessionDocument and assetPolicy find the production's render
// security group, Session Manager document and asset bucket policy.
func renderGroup(t *testing.T, tpl map[string]any) (string, map[string]any) {
	t.Helper()
	return find(t, tpl, "AWS::EC2::SecurityGroup", func(p map[string]any) bool {
		return strings.HasSuffix(fmt.Sprint(p["GroupDescription"]), " render nodes")
	})
}

func sessionDocument(t *testing.T, tpl map[string]any) (string, map[string]any) {
	t.Helper()
	return find(t, tpl, "AWS::SSM::Document", func(p map[string]any) bool { return p["DocumentType"] == "Session" })
}

func assetPolicy(t *testing.T, tpl map[string]any) (string, map[string]any) {
	t.Helper()
	bucket, _ := find(t, tpl, "AWS::S3::Bucket", func(p map[string]any) bool { return strings.Contains(fmt.Sprint(p["BucketName"]), "-assets-") })
	return find(t, tpl, "AWS::S3::BucketPolicy", func(p map[string]any) bool {
		return fmt.Sprint(p["Bucket"]) == fmt.Sprint(map[string]any{"Ref": bucket})
	})
}

// addStatement appends a statement to a policy resource's PolicyDocument.
func addStatement(r map[string]any, st map[string]any) {
	doc := props(r)["PolicyDocument"].(map[string]any)
	doc["Statement"] = append(doc["Statement"].([]any), st)
}

// byManifests are the faults of TestClaimsFlip that only the manifests
// show (whose key a volume uses), so that no rule judges them.
var byManifests = map[string]bool{"root volume with another production's key": true}

// TestClaimsFlip breaks one thing at a time in the synthesized templates and
// checks that the control that claimed it no longer does, naming the
// resource that broke it; where rules judge the claim, through their
// findings.
func TestClaimsFlip(t *testing.T) {
	s := synth(t, fixtures.AcmeDir())
	const prod, logging, link = "acme-nightfall", "acme-logging", "acme-nightfall-link"
	for _, tc := range []struct {
		name    string
		control string
		check   string
		// implemented: the control must be implemented before the change
		// (for controls that the acme templates fully implement).
		implemented bool
		// limited: before the change the check is limited rather than
		// passed (what it cannot see is the studio's).
		limited bool
		// mutate breaks the templates and returns the name the failure
		// must mention.
		mutate func(t *testing.T, tpls map[string]map[string]any) string
	}{
		{"key rotation off", "9.5", "every key rotates yearly", true, false, func(t *testing.T, tpls map[string]map[string]any) string {
			id, r := find(t, tpls[prod], "AWS::KMS::Key", nil)
			props(r)["EnableKeyRotation"] = false
			return id
		}},
		{"internet gateway in the production VPC", "2.4", "the production network has no internet path", false, false, func(t *testing.T, tpls map[string]map[string]any) string {
			tpls[prod]["Resources"].(map[string]any)["SneakyGateway"] = map[string]any{"Type": "AWS::EC2::InternetGateway", "Properties": map[string]any{}}
			return "SneakyGateway"
		}},
		{"default route in the production VPC", "2.2", "the production network has no internet path", false, false, func(t *testing.T, tpls map[string]map[string]any) string {
			id, _ := find(t, tpls[prod], "AWS::EC2::RouteTable", nil)
			tpls[prod]["Resources"].(map[string]any)["DefaultRoute"] = map[string]any{"Type": "AWS::EC2::Route", "Properties": map[string]any{
				"RouteTableId": map[string]any{"Ref": id}, "DestinationCidrBlock": "0.0.0.0/0", "GatewayId": "igw-0123456789abcdef0",
			}}
			return "DefaultRoute"
		}},
		{"DNS Firewall that ends by allowing", "2.2", "DNS resolves only the names the production needs", false, false, func(t *testing.T, tpls map[string]map[string]any) string {
			id, r := find(t, tpls[prod], "AWS::Route53Resolver::FirewallRuleGroup", nil)
			rules := props(r)["FirewallRules"].([]any)
			rules[len(rules)-1].(map[string]any)["Action"] = "ALLOW"
			return id
		}},
		{"DNS queries not logged", "8.1", "DNS queries are logged, encrypted", false, false, func(t *testing.T, tpls map[string]map[string]any) string {
			id, _ := find(t, tpls[prod], "AWS::Route53Resolver::ResolverQueryLoggingConfigAssociation", nil)
			delete(tpls[prod]["Resources"].(map[string]any), id)
			vpc, _ := find(t, tpls[prod], "AWS::EC2::VPC", nil)
			return vpc
		}},
		{"data event selector removed", "5.3", "a trail records the asset bucket's object activity", true, false, func(t *testing.T, tpls map[string]map[string]any) string {
			id, r := find(t, tpls[logging], "AWS::CloudTrail::Trail", nil)
			var kept []any
			for _, sel := range props(r)["AdvancedEventSelectors"].([]any) {
				if !strings.Contains(fmt.Sprint(sel), "Data") {
					kept = append(kept, sel)
				}
			}
			props(r)["AdvancedEventSelectors"] = kept
			return id
		}},
		{"key pair on a launch template", "4.1", "launch templates install no key pair", true, false, func(t *testing.T, tpls map[string]map[string]any) string {
			id, r := find(t, tpls[prod], "AWS::EC2::LaunchTemplate", nil)
			props(r)["LaunchTemplateData"].(map[string]any)["KeyName"] = "render-admin"
			return id
		}},
		{"SSH ingress", "4.1", "no SSH or RDP ingress", true, false, func(t *testing.T, tpls map[string]map[string]any) string {
			id, _ := find(t, tpls[prod], "AWS::EC2::SecurityGroup", func(p map[string]any) bool {
				return strings.Contains(fmt.Sprint(p["GroupDescription"]), "render")
			})
			tpls[prod]["Resources"].(map[string]any)["AdminSsh"] = map[string]any{"Type": "AWS::EC2::SecurityGroupIngress", "Properties": map[string]any{
				"GroupId": map[string]any{"Fn::GetAtt": []any{id, "GroupId"}}, "IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "CidrIp": "10.0.0.0/16",
			}}
			return "AdminSsh"
		}},
		{"RDP inline on the render group", "4.1", "no SSH or RDP ingress", true, false, func(t *testing.T, tpls map[string]map[string]any) string {
			id, r := find(t, tpls[prod], "AWS::EC2::SecurityGroup", func(p map[string]any) bool {
				return strings.Contains(fmt.Sprint(p["GroupDescription"]), "render")
			})
			props(r)["SecurityGroupIngress"] = []any{map[string]any{"IpProtocol": "tcp", "FromPort": 3389, "ToPort": 3389, "CidrIp": "192.168.0.0/16"}}
			return id
		}},
		{"ingress from anywhere", "2.1", "no security group admits traffic from anywhere", false, false, func(t *testing.T, tpls map[string]map[string]any) string {
			id, r := find(t, tpls[prod], "AWS::EC2::SecurityGroup", nil)
			props(r)["SecurityGroupIngress"] = []any{map[string]any{"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "CidrIp": "0.0.0.0/0"}}
			return id
		}},
		{"Session Manager policy detached", "4.1", "render nodes run with the Session Manager policy", true, false, func(t *testing.T, tpls map[string]map[string]any) string {
			id, r := find(t, tpls[prod], "AWS::IAM::Role", func(p map[string]any) bool { return strings.HasSuffix(fmt.Sprint(p["RoleName"]), "-render") })
			delete(props(r), "ManagedPolicyArns")
			return id
		}},
		{"a resource loses its tags", "1.2", "every taggable resource carries the ISE 1.2 tags", false, false, func(t *testing.T, tpls map[string]map[string]any) string {
			id, r := find(t, tpls[prod], "AWS::EC2::VPC", nil)
			delete(props(r), "Tags")
			return id
		}},
		{"a wrong Production tag", "1.2", "every taggable resource carries the ISE 1.2 tags", false, false, func(t *testing.T, tpls map[string]map[string]any) string {
			id, r := find(t, tpls[prod], "AWS::S3::Bucket", nil)
			for _, tag := range props(r)["Tags"].([]any) {
				if m := tag.(map[string]any); m["Key"] == "Production" {
					m["Value"] = "harbour"
				}
			}
			return id
		}},
		{"scratch volume kept after termination", "10.9", "volumes are deleted with their node", false, false, func(t *testing.T, tpls map[string]map[string]any) string {
			id, r := find(t, tpls[prod], "AWS::EC2::LaunchTemplate", nil)
			bdm := props(r)["LaunchTemplateData"].(map[string]any)["BlockDeviceMappings"].([]any)
			bdm[len(bdm)-1].(map[string]any)["Ebs"].(map[string]any)["DeleteOnTermination"] = false
			return id
		}},
		{"flow log group unencrypted", "8.1", "VPC flow logs record all traffic, encrypted", false, false, func(t *testing.T, tpls map[string]map[string]any) string {
			id, r := find(t, tpls[prod], "AWS::Logs::LogGroup", func(p map[string]any) bool { return strings.HasSuffix(fmt.Sprint(p["LogGroupName"]), "/flow-logs") })
			delete(props(r), "KmsKeyId")
			return id
		}},
		{"trail without log file validation", "8.1", "a multi-region, validated, encrypted trail records the account", false, false, func(t *testing.T, tpls map[string]map[string]any) string {
			id, r := find(t, tpls[logging], "AWS::CloudTrail::Trail", nil)
			props(r)["EnableLogFileValidation"] = false
			return id
		}},
		{"key admin may also decrypt", "9.3", "no principal both administers and uses keys", true, false, func(t *testing.T, tpls map[string]map[string]any) string {
			_, r := find(t, tpls[prod], "AWS::IAM::Policy", func(p map[string]any) bool { return strings.Contains(fmt.Sprint(p["PolicyName"]), "KeyAdmin") })
			doc := props(r)["PolicyDocument"].(map[string]any)
			doc["Statement"] = append(doc["Statement"].([]any), map[string]any{"Effect": "Allow", "Action": "kms:Decrypt", "Resource": "*"})
			id, _ := find(t, tpls[prod], "AWS::IAM::Role", func(p map[string]any) bool { return strings.HasSuffix(fmt.Sprint(p["RoleName"]), "-key-admin") })
			return id
		}},
		{"key policy grants kms:*", "9.2", "key policies bound administration and use", true, false, func(t *testing.T, tpls map[string]map[string]any) string {
			id, r := find(t, tpls[prod], "AWS::KMS::Key", nil)
			pol := props(r)["KeyPolicy"].(map[string]any)
			pol["Statement"] = append(pol["Statement"].([]any), map[string]any{"Effect": "Allow", "Action": "kms:*", "Principal": map[string]any{"AWS": "arn:aws:iam::333333333333:root"}, "Resource": "*"})
			return id
		}},
		{"asset bucket with an AWS-managed key", "10.6", "the asset bucket encrypts with the content-asset key", true, false, func(t *testing.T, tpls map[string]map[string]any) string {
			id, r := find(t, tpls[prod], "AWS::S3::Bucket", func(p map[string]any) bool { return strings.Contains(fmt.Sprint(p["BucketName"]), "-assets-") })
			props(r)["BucketEncryption"] = map[string]any{"ServerSideEncryptionConfiguration": []any{map[string]any{"ServerSideEncryptionByDefault": map[string]any{"SSEAlgorithm": "aws:kms"}}}}
			return id
		}},
		{"network ACL lets another production in", "2.6", "network ACLs deny every other production", true, false, func(t *testing.T, tpls map[string]map[string]any) string {
			id, r := find(t, tpls[prod], "AWS::EC2::NetworkAclEntry", func(p map[string]any) bool {
				return p["CidrBlock"] == "10.0.0.0/8" && p["Egress"] == false
			})
			props(r)["RuleAction"] = "allow"
			return id
		}},
		{"deny rules before the allows", "2.6", "RFC 1918 ranges are denied after the allows", true, false, func(t *testing.T, tpls map[string]map[string]any) string {
			id, r := find(t, tpls[prod], "AWS::EC2::NetworkAclEntry", func(p map[string]any) bool {
				return p["CidrBlock"] == "172.16.0.0/12" && p["Egress"] == true
			})
			props(r)["RuleNumber"] = 90
			return id
		}},
		{"a link stack routes into the production route table", "2.2", "the Transit Gateway reaches only management and on-premises", false, false, func(t *testing.T, tpls map[string]map[string]any) string {
			_, assoc := find(t, tpls[link], "AWS::EC2::TransitGatewayRouteTableAssociation", nil)
			id, route := find(t, tpls[link], "AWS::EC2::TransitGatewayRoute", nil)
			props(route)["TransitGatewayRouteTableId"] = props(assoc)["TransitGatewayRouteTableId"]
			return id
		}},
		{"a link stack propagates into the production route table", "2.2", "the Transit Gateway reaches only management and on-premises", false, false, func(t *testing.T, tpls map[string]map[string]any) string {
			_, assoc := find(t, tpls[link], "AWS::EC2::TransitGatewayRouteTableAssociation", nil)
			tpls[link]["Resources"].(map[string]any)["InjectedPropagation"] = map[string]any{
				"Type": "AWS::EC2::TransitGatewayRouteTablePropagation",
				"Properties": map[string]any{
					"TransitGatewayAttachmentId": props(assoc)["TransitGatewayAttachmentId"],
					"TransitGatewayRouteTableId": props(assoc)["TransitGatewayRouteTableId"],
				},
			}
			return "InjectedPropagation"
		}},
		{"another production's link stack propagates into the production route table", "2.2", "the Transit Gateway reaches only management and on-premises", false, false, func(t *testing.T, tpls map[string]map[string]any) string {
			_, assoc := find(t, tpls[link], "AWS::EC2::TransitGatewayRouteTableAssociation", nil)
			_, other := find(t, tpls["acme-harbour-link"], "AWS::EC2::TransitGatewayRouteTableAssociation", nil)
			tpls["acme-harbour-link"]["Resources"].(map[string]any)["HarbourPropagation"] = map[string]any{
				"Type": "AWS::EC2::TransitGatewayRouteTablePropagation",
				"Properties": map[string]any{
					"TransitGatewayAttachmentId": props(other)["TransitGatewayAttachmentId"],
					"TransitGatewayRouteTableId": props(assoc)["TransitGatewayRouteTableId"],
				},
			}
			return "HarbourPropagation"
		}},
		// nightfall's data operators are a permission set (MFA at sign-in,
		// the studio's: limited) and a named role (MFA in its session).
		{"people's role without MFA", "1.5", "people's roles require MFA", false, true, func(t *testing.T, tpls map[string]map[string]any) string {
			id, r := find(t, tpls[prod], "AWS::IAM::Role", func(p map[string]any) bool { return strings.HasSuffix(fmt.Sprint(p["RoleName"]), "-data-operator") })
			for _, st := range props(r)["AssumeRolePolicyDocument"].(map[string]any)["Statement"].([]any) {
				delete(st.(map[string]any)["Condition"].(map[string]any), "Bool")
			}
			return id
		}},
		{"people's role trusts the whole management account", "1.3", "people's roles trust only the principals the manifests name", false, false, func(t *testing.T, tpls map[string]map[string]any) string {
			id, r := find(t, tpls[prod], "AWS::IAM::Role", func(p map[string]any) bool { return strings.HasSuffix(fmt.Sprint(p["RoleName"]), "-key-admin") })
			for _, st := range props(r)["AssumeRolePolicyDocument"].(map[string]any)["Statement"].([]any) {
				delete(st.(map[string]any)["Condition"].(map[string]any), "ArnLike")
			}
			return id
		}},
		{"people's role trusts a principal nobody named", "7.1", "people's roles trust only the principals the manifests name", false, false, func(t *testing.T, tpls map[string]map[string]any) string {
			id, r := find(t, tpls[prod], "AWS::IAM::Role", func(p map[string]any) bool { return strings.HasSuffix(fmt.Sprint(p["RoleName"]), "-log-reader") })
			for _, st := range props(r)["AssumeRolePolicyDocument"].(map[string]any)["Statement"].([]any) {
				cond := st.(map[string]any)["Condition"].(map[string]any)["ArnLike"].(map[string]any)
				cond["aws:PrincipalArn"] = append(cfn.AsList(cond["aws:PrincipalArn"]), "arn:aws:iam::111111111111:role/contractor")
			}
			return id
		}},
		{"a role trusts another account", "1.1", "roles trust only the management account", true, false, func(t *testing.T, tpls map[string]map[string]any) string {
			id, r := find(t, tpls[prod], "AWS::IAM::Role", func(p map[string]any) bool { return strings.HasSuffix(fmt.Sprint(p["RoleName"]), "-log-reader") })
			for _, st := range props(r)["AssumeRolePolicyDocument"].(map[string]any)["Statement"].([]any) {
				st.(map[string]any)["Principal"] = map[string]any{"AWS": "arn:aws:iam::444444444444:root"}
			}
			return id
		}},
		{"the launcher may pass any role", "7.1", "the scheduler's launcher role is bound to this production", true, false, func(t *testing.T, tpls map[string]map[string]any) string {
			id, r := find(t, tpls[prod], "AWS::IAM::Policy", func(p map[string]any) bool { return strings.Contains(fmt.Sprint(p["PolicyName"]), "Launcher") })
			for _, st := range props(r)["PolicyDocument"].(map[string]any)["Statement"].([]any) {
				if m := st.(map[string]any); m["Action"] == "iam:PassRole" {
					m["Resource"] = "*"
				}
			}
			return id
		}},
		// Launch templates: IMDSv2 (4.2, 10.8).
		{"IMDSv1 allowed", "4.2", "instance metadata requires IMDSv2", false, false, func(t *testing.T, tpls map[string]map[string]any) string {
			id, r := find(t, tpls[prod], "AWS::EC2::LaunchTemplate", nil)
			ltData(r)["MetadataOptions"].(map[string]any)["HttpTokens"] = "optional"
			return id
		}},
		{"metadata reachable from containers (hop limit 2)", "10.8", "instance metadata requires IMDSv2", false, false, func(t *testing.T, tpls map[string]map[string]any) string {
			id, r := find(t, tpls[prod], "AWS::EC2::LaunchTemplate", nil)
			ltData(r)["MetadataOptions"].(map[string]any)["HttpPutResponseHopLimit"] = 2
			return id
		}},
		// Launch templates: no public address (2.2).
		{"public IP on a render node", "2.2", "render nodes get no public address", false, false, func(t *testing.T, tpls map[string]map[string]any) string {
			id, r := find(t, tpls[prod], "AWS::EC2::LaunchTemplate", nil)
			ltData(r)["NetworkInterfaces"].([]any)[0].(map[string]any)["AssociatePublicIpAddress"] = true
			return id
		}},
		// Volumes: encrypted with the production's keys (4.2, 9.1).
		{"unencrypted scratch volume", "9.1", "volumes are encrypted with customer-managed keys", true, false, func(t *testing.T, tpls map[string]map[string]any) string {
			id, r := find(t, tpls[prod], "AWS::EC2::LaunchTemplate", nil)
			vs := volumes(r)
			vs[len(vs)-1]["Encrypted"] = false
			return id
		}},
		{"root volume with EBS's default key", "9.1", "volumes are encrypted with customer-managed keys", true, false, func(t *testing.T, tpls map[string]map[string]any) string {
			id, r := find(t, tpls[prod], "AWS::EC2::LaunchTemplate", nil)
			delete(volumes(r)[0], "KmsKeyId")
			return id
		}},
		{"root volume with another production's key", "4.2", "volumes are encrypted with customer-managed keys", false, false, func(t *testing.T, tpls map[string]map[string]any) string {
			id, r := find(t, tpls[prod], "AWS::EC2::LaunchTemplate", nil)
			volumes(r)[0]["KmsKeyId"] = "arn:aws:kms:us-west-2:444444444444:alias/acme/harbour/root-volume"
			return id
		}},
		// Nodes and volumes do not outlive the work (10.9).
		{"a node that shuts itself down stops", "10.9", "nodes terminate rather than stop", true, false, func(t *testing.T, tpls map[string]map[string]any) string {
			id, r := find(t, tpls[prod], "AWS::EC2::LaunchTemplate", nil)
			ltData(r)["InstanceInitiatedShutdownBehavior"] = "stop"
			return id
		}},
		{"an on-demand node with the default shutdown behaviour", "10.9", "nodes terminate rather than stop", true, false, func(t *testing.T, tpls map[string]map[string]any) string {
			id, r := find(t, tpls[prod], "AWS::EC2::LaunchTemplate", func(p map[string]any) bool {
				return p["LaunchTemplateData"].(map[string]any)["InstanceMarketOptions"] == nil
			})
			delete(ltData(r), "InstanceInitiatedShutdownBehavior")
			return id
		}},
		{"root volume kept after termination", "10.9", "volumes are deleted with their node", true, false, func(t *testing.T, tpls map[string]map[string]any) string {
			id, r := find(t, tpls[prod], "AWS::EC2::LaunchTemplate", nil)
			volumes(r)[0]["DeleteOnTermination"] = false
			return id
		}},
		// Session Manager logging (4.1, 10.10).
		{"session logs unencrypted", "4.1", "sessions are logged, encrypted", true, false, func(t *testing.T, tpls map[string]map[string]any) string {
			id, r := sessionDocument(t, tpls[prod])
			props(r)["Content"].(map[string]any)["inputs"].(map[string]any)["cloudWatchEncryptionEnabled"] = false
			return id
		}},
		{"sessions sent to no log group", "4.1", "sessions are logged, encrypted", true, false, func(t *testing.T, tpls map[string]map[string]any) string {
			id, r := sessionDocument(t, tpls[prod])
			delete(props(r)["Content"].(map[string]any)["inputs"].(map[string]any), "cloudWatchLogGroupName")
			return id
		}},
		// The render role's permissions boundary (7.1).
		{"render role without a permissions boundary", "7.1", "the render role has a permissions boundary", true, false, func(t *testing.T, tpls map[string]map[string]any) string {
			id, r := find(t, tpls[prod], "AWS::IAM::Role", func(p map[string]any) bool { return strings.HasSuffix(fmt.Sprint(p["RoleName"]), "-render") })
			delete(props(r), "PermissionsBoundary")
			return id
		}},
		// Render egress stays in management, the endpoints and storage (10.5, 2.1).
		{"render egress to anywhere", "10.5", "render nodes reach management only on scheduler and license ports", true, false, func(t *testing.T, tpls map[string]map[string]any) string {
			id, r := renderGroup(t, tpls[prod])
			props(r)["SecurityGroupEgress"] = append(props(r)["SecurityGroupEgress"].([]any), map[string]any{"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "CidrIp": "0.0.0.0/0"})
			return id
		}},
		{"render egress to anywhere, all traffic", "2.1", "security groups restrict egress", false, false, func(t *testing.T, tpls map[string]map[string]any) string {
			id, r := renderGroup(t, tpls[prod])
			props(r)["SecurityGroupEgress"] = append(props(r)["SecurityGroupEgress"].([]any), map[string]any{"IpProtocol": "-1", "CidrIp": "0.0.0.0/0"})
			return id
		}},
		{"render egress to a host outside", "10.5", "render nodes reach management only on scheduler and license ports", true, false, func(t *testing.T, tpls map[string]map[string]any) string {
			id, _ := renderGroup(t, tpls[prod])
			tpls[prod]["Resources"].(map[string]any)["UploadEgress"] = map[string]any{"Type": "AWS::EC2::SecurityGroupEgress", "Properties": map[string]any{
				"GroupId": map[string]any{"Fn::GetAtt": []any{id, "GroupId"}}, "IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "CidrIp": "203.0.113.10/32",
			}}
			return "UploadEgress"
		}},
		{"render egress to every management port", "10.5", "render nodes reach management only on scheduler and license ports", true, false, func(t *testing.T, tpls map[string]map[string]any) string {
			id, r := renderGroup(t, tpls[prod])
			props(r)["SecurityGroupEgress"].([]any)[0].(map[string]any)["ToPort"] = 65535
			return id
		}},
		// The asset bucket's grants (5.1): the bucket policy grants too.
		{"vendor role without an end date", "7.1", "each vendor reaches only its own exchange prefix, with an external id, until its date", false, false, func(t *testing.T, tpls map[string]map[string]any) string {
			id, r := find(t, tpls[prod+"-exchange"], "AWS::IAM::Role", func(p map[string]any) bool { return p["RoleName"] == "acme-nightfall-vendor-lumen" })
			for _, st := range props(r)["AssumeRolePolicyDocument"].(map[string]any)["Statement"].([]any) {
				delete(st.(map[string]any)["Condition"].(map[string]any), "DateLessThan")
			}
			return id
		}},
		{"DataSync endpoint open to any address", "10.6", "ingest reaches the asset bucket privately, from on-premises only, verifying every file", false, false, func(t *testing.T, tpls map[string]map[string]any) string {
			id, r := find(t, tpls[prod], "AWS::EC2::SecurityGroup", func(p map[string]any) bool {
				return strings.Contains(fmt.Sprint(p["GroupDescription"]), "DataSync")
			})
			props(r)["SecurityGroupIngress"].([]any)[0].(map[string]any)["CidrIp"] = "0.0.0.0/0"
			return id
		}},
		{"asset bucket no longer replicated", "10.6", "the asset bucket is copied to another region, encrypted there with a key of that region", false, false, func(t *testing.T, tpls map[string]map[string]any) string {
			id, r := find(t, tpls[prod], "AWS::S3::Bucket", func(p map[string]any) bool { return p["ReplicationConfiguration"] != nil })
			delete(props(r), "ReplicationConfiguration")
			return id
		}},
		{"exchange bucket keeps hand-overs for a year", "5.3", "the exchange bucket expires hand-overs, writes access logs and a trail records its objects", false, false, func(t *testing.T, tpls map[string]map[string]any) string {
			id, r := find(t, tpls[prod+"-exchange"], "AWS::S3::Bucket", func(p map[string]any) bool {
				return strings.Contains(fmt.Sprint(p["BucketName"]), "-exchange-")
			})
			props(r)["LifecycleConfiguration"].(map[string]any)["Rules"].([]any)[0].(map[string]any)["ExpirationInDays"] = 365
			return id
		}},
		{"bucket policy opens objects to everyone", "5.1", "only the production's data roles may use the asset bucket", true, false, func(t *testing.T, tpls map[string]map[string]any) string {
			id, r := assetPolicy(t, tpls[prod])
			addStatement(r, map[string]any{"Effect": "Allow", "Principal": map[string]any{"AWS": "*"}, "Action": "s3:GetObject", "Resource": "arn:aws:s3:::acme-nightfall-assets-333333333333-us-west-2/*"})
			return id
		}},
		{"flow logs kept only in the production's account", "8.1", "VPC flow logs are copied to the log-archive account", false, false, func(t *testing.T, tpls map[string]map[string]any) string {
			for id, r := range tpls[prod]["Resources"].(map[string]any) {
				if r.(map[string]any)["Type"] == "AWS::EC2::FlowLog" && props(r.(map[string]any))["LogDestinationType"] == "s3" {
					delete(tpls[prod]["Resources"].(map[string]any), id)
				}
			}
			vpc, _ := find(t, tpls[prod], "AWS::EC2::VPC", nil)
			return vpc
		}},
		{"sessions kept only in the production's account", "4.1", "sessions are copied to the log-archive account", false, false, func(t *testing.T, tpls map[string]map[string]any) string {
			id, r := find(t, tpls[prod], "AWS::SSM::Document", nil)
			delete(props(r)["Content"].(map[string]any)["inputs"].(map[string]any), "s3BucketName")
			return id
		}},
		{"bucket policy grants another account", "5.1", "only the production's data roles may use the asset bucket", true, false, func(t *testing.T, tpls map[string]map[string]any) string {
			id, r := assetPolicy(t, tpls[prod])
			addStatement(r, map[string]any{"Effect": "Allow", "Principal": map[string]any{"AWS": "arn:aws:iam::444444444444:root"}, "Action": []any{"s3:GetObject", "s3:ListBucket"}, "Resource": "*"})
			return id
		}},
		{"bucket policy grants another role of the account", "5.1", "only the production's data roles may use the asset bucket", true, false, func(t *testing.T, tpls map[string]map[string]any) string {
			id, r := assetPolicy(t, tpls[prod])
			addStatement(r, map[string]any{"Effect": "Allow", "Principal": map[string]any{"AWS": "arn:aws:iam::333333333333:role/acme-nightfall-log-reader"}, "Action": "s3:GetObject", "Resource": "*"})
			return id
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := control(t, s.report(t, s.parsed(t), "nightfall"), tc.control)
			if r := checkResult(t, before, tc.check); r.Outcome != evidence.Pass && !(tc.limited && r.Outcome == evidence.Limited) {
				t.Fatalf("before the change, %s %q = %s: %s", tc.control, tc.check, r.Outcome, r.Detail)
			}
			if tc.implemented && !implementedByTemplates(before) {
				t.Fatalf("before the change, %s = %s, want implemented: %v", tc.control, before.Status, before.Problems())
			}
			tpls := s.parsed(t)
			name := tc.mutate(t, tpls)
			after := control(t, s.report(t, tpls, "nightfall"), tc.control)
			r := checkResult(t, after, tc.check)
			if r.Outcome != evidence.Fail {
				t.Errorf("after the change, %s %q = %s, want fail: %s", tc.control, tc.check, r.Outcome, r.Detail)
			}
			if !strings.Contains(r.Detail, name) {
				t.Errorf("the failure does not name %s: %s", name, r.Detail)
			}
			// Where rules judge the claim, the flip comes from them: the
			// detail quotes a finding of one, and the control lists it as
			// failing.
			for _, id := range r.Rules {
				if !strings.Contains(r.Detail, ": "+id+": ") {
					continue
				}
				for _, rr := range after.Rules {
					if rr.ID == id && rr.Outcome != evidence.Fail {
						t.Errorf("%s's finding fails the check, but the control lists %s as %s", id, id, rr.Outcome)
					}
				}
			}
			if len(r.Rules) > 0 && !slices.ContainsFunc(r.Rules, func(id string) bool { return strings.Contains(r.Detail, ": "+id+": ") }) && !byManifests[tc.name] {
				t.Errorf("check %q rests on %v, but its failure quotes none of their findings: %s", tc.check, r.Rules, r.Detail)
			}
			if after.Status == evidence.Implemented {
				t.Errorf("after the change, %s is still implemented", tc.control)
			}
			if !strings.Contains(strings.Join(after.Problems(), " "), name) {
				t.Errorf("%s's problems do not name %s: %v", tc.control, name, after.Problems())
			}
		})
	}
}

// TestBucketPolicyOwnRoles: a bucket policy statement that grants only the
// production's data roles, by ARN or by reference, keeps 5.1 implemented,
// so the bucket policy check above flips on outsiders, not on any Allow.
func TestBucketPolicyOwnRoles(t *testing.T) {
	s := synth(t, fixtures.AcmeDir())
	tpls := s.parsed(t)
	role, _ := find(t, tpls["acme-nightfall"], "AWS::IAM::Role", func(p map[string]any) bool { return strings.HasSuffix(fmt.Sprint(p["RoleName"]), "-render") })
	_, r := assetPolicy(t, tpls["acme-nightfall"])
	addStatement(r, map[string]any{"Sid": "OwnRoles", "Effect": "Allow", "Action": "s3:GetObject", "Resource": "*", "Principal": map[string]any{"AWS": []any{
		"arn:aws:iam::333333333333:role/acme-nightfall-data-operator",
		map[string]any{"Fn::GetAtt": []any{role, "Arn"}},
	}}})
	c := control(t, s.report(t, tpls, "nightfall"), "5.1")
	if r := checkResult(t, c, "only the production's data roles may use the asset bucket"); r.Outcome != evidence.Pass || !implementedByTemplates(c) {
		t.Errorf("5.1 = %s, check %s: %s", c.Status, r.Outcome, r.Detail)
	}
	found := false
	for _, e := range c.Evidence {
		found = found || e.Property == "PolicyDocument.OwnRoles"
	}
	if !found {
		t.Errorf("5.1 cites no evidence for the OwnRoles statement: %v", c.Evidence)
	}
}

// TestStandaloneTrail: without an organization, each production records its
// account with a trail of its own, and the pack finds the evidence there.
func TestStandaloneTrail(t *testing.T) {
	dir := t.TempDir()
	for name, b := range fixtures.AcmeFiles() {
		if name == "studio.yaml" {
			b = regexp.MustCompile(`(?m)^organization(Id|ManagementAccount):.*\n`).ReplaceAll(b, nil)
		}
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	s := synth(t, dir)
	for _, tc := range []struct {
		production string
		status     evidence.Status
	}{{"nightfall", evidence.Implemented}, {"lighthouse", evidence.Partial}} {
		p := s.report(t, s.parsed(t), tc.production)
		c := control(t, p, "5.3")
		if c.Status != tc.status {
			t.Errorf("%s 5.3 = %s, want %s: %v", tc.production, c.Status, tc.status, c.Problems())
		}
		trail := control(t, p, "8.1")
		found := false
		for _, e := range trail.Evidence {
			if e.Stack == "acme-"+tc.production && e.Type == "AWS::CloudTrail::Trail" {
				found = true
			}
		}
		if !found || trail.Status != evidence.Partial || len(trail.Problems()) > 0 {
			t.Errorf("%s 8.1 = %s and cites no trail of acme-%s: %v", tc.production, trail.Status, tc.production, trail.Evidence)
		}
	}
}

// TestWithoutALogArchiveTheCopiesAreLimited: a studio whose logging stack
// lives in the management account has nowhere to copy flow logs and
// sessions to; the pack says so rather than passing.
func TestWithoutALogArchiveTheCopiesAreLimited(t *testing.T) {
	dir := t.TempDir()
	for name, b := range fixtures.AcmeFiles() {
		if name == "studio.yaml" {
			b = regexp.MustCompile(`(?m)^logArchiveAccount:.*\n`).ReplaceAll(b, nil)
		}
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	s := synth(t, dir)
	p := s.report(t, s.parsed(t), "nightfall")
	for _, c := range []struct{ control, check string }{
		{"8.1", "VPC flow logs are copied to the log-archive account"},
		{"4.1", "sessions are copied to the log-archive account"},
	} {
		ctl := control(t, p, c.control)
		r := checkResult(t, ctl, c.check)
		if r.Outcome != evidence.Limited || !strings.Contains(r.Detail, "logArchiveAccount") {
			t.Errorf("%s %q = %s, want limited, naming logArchiveAccount: %s", c.control, c.check, r.Outcome, r.Detail)
		}
		if ctl.Status == evidence.Implemented {
			t.Errorf("%s is implemented although its logs have no copy out of reach", c.control)
		}
	}
}

func TestOutputs(t *testing.T) {
	s := synth(t, fixtures.AcmeDir())
	p := s.report(t, s.parsed(t), "nightfall")

	j1, err := p.JSON()
	if err != nil {
		t.Fatal(err)
	}
	j2, _ := s.report(t, s.parsed(t), "nightfall").JSON()
	if string(j1) != string(j2) {
		t.Error("the JSON differs between two runs over the same templates")
	}
	var back evidence.Pack
	if err := json.Unmarshal(j1, &back); err != nil {
		t.Fatalf("the JSON does not read back: %v", err)
	}
	if back.Production != "nightfall" || back.Tier != 1 || back.Account != "333333333333" || len(back.Controls) != len(wantIDs) {
		t.Errorf("the JSON lost the header or controls: %+v", back.Summary)
	}
	if c, _ := back.Control("9.5"); len(c.Rules) != 1 || c.Rules[0].ID != "RE-KEY-001" || c.Rules[0].Outcome != evidence.Pass || c.Rules[0].Description == "" {
		t.Errorf("the JSON of 9.5 does not carry its rule: %+v", c.Rules)
	}
	if c, _ := back.Control("9.5"); len(c.Checks) != 1 || !slices.Equal(c.Checks[0].Rules, []string{"RE-KEY-001"}) {
		t.Errorf("the JSON of 9.5's check does not name its rule: %+v", c.Checks)
	}
	if !strings.HasPrefix(string(j1), "{\n  \"studio\": \"acme\",\n  \"production\": \"nightfall\",") {
		t.Errorf("the JSON is not indented with studio and production first:\n%.200s", j1)
	}

	md := p.Markdown()
	for _, want := range []string{
		"# ISE control evidence: acme / nightfall\n",
		"| Tier | 1 (pre-release, high security) |",
		"| Account | 333333333333 |",
		"| Region | us-west-2 |",
		"Derived from the synthesized templates",
		"| Control | Status | Evidence |",
		"**Studio actions**",
		"**Rules** (`renderenv check`)",
		"- **pass**: `RE-KEY-001` ",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("the Markdown lacks %q", want)
		}
	}
	for _, c := range p.Controls {
		row := fmt.Sprintf("| [%s](#ise-%s) ", c.ID, strings.ReplaceAll(c.ID, ".", "-"))
		if !strings.Contains(md, row) {
			t.Errorf("the summary table has no row for %s", c.ID)
		}
		if !strings.Contains(md, fmt.Sprintf("\n### %s %s\n", c.ID, c.Title)) || !strings.Contains(md, fmt.Sprintf("<a id=\"ise-%s\"></a>", strings.ReplaceAll(c.ID, ".", "-"))) {
			t.Errorf("the Markdown has no section or anchor for %s", c.ID)
		}
	}
	for _, line := range strings.Split(md, "\n") {
		if strings.Count(line, "`")%2 != 0 {
			t.Errorf("an inline code span is not closed on its line: %s", line)
		}
	}
}

func TestReportErrors(t *testing.T) {
	s := synth(t, fixtures.AcmeDir())
	if _, err := evidence.Report(s.assembly, s.estate, "nosuch"); err == nil || !strings.Contains(err.Error(), `"nosuch"`) {
		t.Errorf("Report(nosuch) = %v, want an error naming it", err)
	}
	tpls := s.parsed(t)
	delete(tpls, "acme-logging")
	if _, err := evidence.Report(s.assemblyOf(t, tpls), s.estate, "nightfall"); err == nil || !strings.Contains(err.Error(), "acme-logging") {
		t.Errorf("Report without the logging stack = %v, want an error naming it", err)
	}
	if _, err := evidence.Report(s.assembly, nil, "nightfall"); err == nil {
		t.Error("Report without manifests succeeded")
	}
}

// TestFailingRuleBlocksControl: a rule that serves a control but that no
// check rests on still keeps the control from being implemented, and its
// findings, rule ID and message, are among the control's problems.
func TestFailingRuleBlocksControl(t *testing.T) {
	s := synth(t, fixtures.AcmeDir())
	before := control(t, s.report(t, s.parsed(t), "nightfall"), "9.1")
	if before.Status != evidence.Implemented {
		t.Fatalf("before the change, 9.1 = %s: %v", before.Status, before.Problems())
	}
	tpls := s.parsed(t)
	id, r := find(t, tpls["acme-nightfall"], "AWS::KMS::Key", nil)
	r["DeletionPolicy"] = "Delete"
	after := control(t, s.report(t, tpls, "nightfall"), "9.1")
	if after.Status == evidence.Implemented {
		t.Errorf("with %s deletable, 9.1 is still implemented", id)
	}
	for _, c := range after.Checks {
		if c.Outcome == evidence.Fail {
			t.Errorf("check %q fails, but no check of 9.1 rests on RE-KEY-002: %s", c.Check, c.Detail)
		}
	}
	problems := strings.Join(after.Problems(), "\n")
	if !strings.Contains(problems, "acme-nightfall/"+id+": RE-KEY-002: DeletionPolicy: ") {
		t.Errorf("9.1's problems do not cite RE-KEY-002's finding on %s: %s", id, problems)
	}
	for _, rr := range after.Rules {
		if rr.ID == "RE-KEY-002" && rr.Outcome != evidence.Fail {
			t.Errorf("RE-KEY-002 is %s in 9.1", rr.Outcome)
		}
	}
	md := s.report(t, tpls, "nightfall").Markdown()
	if !strings.Contains(md, "- **FAIL**: `RE-KEY-002` ") {
		t.Error("the Markdown does not show RE-KEY-002 failing")
	}
}

// TestWritePacksWritesEachPackAsReportMakesIt: WritePacks, which writes the
// packs from one goroutine per CPU, writes every production's pack, as
// Markdown and JSON, as Index.Report makes it.
func TestWritePacksWritesEachPackAsReportMakesIt(t *testing.T) {
	s := synth(t, fixtures.AcmeDir())
	dir := t.TempDir()
	if err := os.CopyFS(dir, os.DirFS(s.dir)); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, r := range s.estate.Resolved() {
		names = append(names, r.Name)
	}
	if err := evidence.WritePacks(dir, s.estate, names, nil); err != nil {
		t.Fatal(err)
	}
	ix, err := evidence.NewIndex(s.assembly, s.estate)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range names {
		pack, err := ix.Report(name)
		if err != nil {
			t.Fatal(err)
		}
		js, err := pack.JSON()
		if err != nil {
			t.Fatal(err)
		}
		base := filepath.Join(dir, s.estate.Studio.Studio+"-"+name+".evidence")
		for file, want := range map[string][]byte{base + ".json": js, base + ".md": []byte(pack.Markdown())} {
			if got, err := os.ReadFile(file); err != nil || string(got) != string(want) {
				t.Errorf("%s is not the pack Report makes (%v)", file, err)
			}
		}
	}
	if err := evidence.WritePacks(dir, s.estate, append(names, "nosuch"), nil); err == nil || !strings.Contains(err.Error(), "nosuch") {
		t.Errorf("a production the estate does not hold: %v, want an error naming it", err)
	}
}
