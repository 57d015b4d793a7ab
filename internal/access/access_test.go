package access

import (
	"context"
	"encoding/json"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/renderenv/renderenv/internal/cfn"
	"github.com/renderenv/renderenv/internal/manifest"
)

// production is a minimal production stack: a render role, an asset key
// and bucket, an S3 endpoint. Both productions use the same logical ids,
// as the estate's do.
func production(name string) map[string]any {
	role := "acme-" + name + "-render"
	return map[string]any{"Resources": map[string]any{
		"Render": map[string]any{"Type": "AWS::IAM::Role", "Properties": map[string]any{"RoleName": role,
			"AssumeRolePolicyDocument": map[string]any{"Statement": []any{map[string]any{"Effect": "Allow", "Action": "sts:AssumeRole",
				"Principal": map[string]any{"Service": "ec2.amazonaws.com"}}}},
			"Policies": []any{map[string]any{"PolicyName": "assets", "PolicyDocument": map[string]any{"Statement": []any{
				map[string]any{"Effect": "Allow", "Action": "s3:GetObject", "Resource": map[string]any{"Fn::Join": []any{"", []any{map[string]any{"Fn::GetAtt": []any{"Assets", "Arn"}}, "/*"}}}},
				map[string]any{"Effect": "Allow", "Action": "kms:Decrypt", "Resource": map[string]any{"Fn::GetAtt": []any{"AssetKey", "Arn"}}},
			}}}}}},
		"AssetKey": map[string]any{"Type": "AWS::KMS::Key", "Properties": map[string]any{"KeyPolicy": map[string]any{"Statement": []any{
			map[string]any{"Effect": "Allow", "Action": "kms:*", "Resource": "*", "Principal": map[string]any{"AWS": map[string]any{"Fn::Sub": "arn:aws:iam::${AWS::AccountId}:root"}}}}}}},
		"AssetKeyAlias": map[string]any{"Type": "AWS::KMS::Alias", "Properties": map[string]any{"AliasName": "alias/acme/" + name + "/content-asset",
			"TargetKeyId": map[string]any{"Fn::GetAtt": []any{"AssetKey", "Arn"}}}},
		"Assets": map[string]any{"Type": "AWS::S3::Bucket", "Properties": map[string]any{"BucketName": "acme-" + name + "-assets-x"}},
		"Vpc":    map[string]any{"Type": "AWS::EC2::VPC"},
		"S3Endpoint": map[string]any{"Type": "AWS::EC2::VPCEndpoint", "Properties": map[string]any{"ServiceName": "com.amazonaws.us-west-2.s3",
			"VpcId": map[string]any{"Ref": "Vpc"}, "PolicyDocument": map[string]any{"Statement": []any{
				map[string]any{"Effect": "Allow", "Action": "*", "Resource": "*", "Principal": map[string]any{"AWS": "*"}}}}}},
	}}
}

func testEstate(t *testing.T) *Estate {
	t.Helper()
	a, err := cfn.FromTemplates(map[string]map[string]any{"acme-alpha": production("alpha"), "acme-beta": production("beta")})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range a.Stacks {
		s.Account, s.Region = "333333333333", "us-west-2"
	}
	m := &manifest.Estate{Studio: manifest.Studio{Studio: "acme", ManagementAccount: "111111111111",
		AdminSourceCidrs: []netip.Prefix{netip.MustParsePrefix("198.51.100.0/24")}},
		Productions: []manifest.ProductionFile{{Production: manifest.Production{Name: "alpha", Account: "333333333333"}},
			{Production: manifest.Production{Name: "beta", Account: "333333333333"}}}}
	e, err := Build(a, m, nil)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// Two stacks' resources with one logical id get different stand-in names,
// so that one production's policy never names the other's key.
func TestGeneratedNamesDifferAcrossStacks(t *testing.T) {
	e := testEstate(t)
	alpha, beta := e.Scopes["alpha"], e.Scopes["beta"]
	if alpha.Keys[0].ARN == beta.Keys[0].ARN {
		t.Fatalf("both keys are %s", alpha.Keys[0].ARN)
	}
	if !strings.HasPrefix(alpha.Endpoints["s3"].ID, "vpce-") || alpha.Endpoints["s3"].ID == beta.Endpoints["s3"].ID {
		t.Errorf("endpoint ids %q and %q", alpha.Endpoints["s3"].ID, beta.Endpoints["s3"].ID)
	}
	doc, _ := json.Marshal(alpha.Endpoints["s3"].Doc.Policy)
	if !strings.Contains(string(doc), `"Principal":"*"`) {
		t.Errorf("an endpoint policy's principal is written \"*\" for the evaluator: %s", doc)
	}
}

// fakeEvaluator allows what the expectation says, except the requests
// allowAlso names.
type fakeEvaluator struct{ allowAlso func(*Request) bool }

func (f fakeEvaluator) Evaluate(_ context.Context, reqs []*Request) ([]Decision, string, error) {
	out := make([]Decision, len(reqs))
	for i, r := range reqs {
		out[i] = Decision{ID: r.ID, Decision: "ImplicitlyDenied"}
		if r.Expect == Allow || f.allowAlso(r) {
			out[i] = Decision{ID: r.ID, Decision: "Allowed", Decisive: []Statement{{Kind: "identity", Policy: "p", Sid: "S", Index: 1, Explicit: true}}}
		}
	}
	return out, "fake@0", nil
}

func TestExpectationsAndReports(t *testing.T) {
	e := testEstate(t)
	leak := func(r *Request) bool {
		return r.Principal.Label == "acme-alpha-render" && r.Target.Label == "acme-beta-assets-x" && r.Action == GetObject
	}
	m, err := Evaluate(context.Background(), e, fakeEvaluator{allowAlso: leak}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var ownRead, cross bool
	for _, r := range m.Rows {
		if r.Principal.Label == "acme-alpha-render" && r.Action == GetObject {
			switch r.Target.Label {
			case "acme-alpha-assets-x":
				ownRead = r.Expect == Allow && r.Endpoint != nil && r.Context["aws:SourceVpce"] == e.Scopes["alpha"].Endpoints["s3"].ID
			case "acme-beta-assets-x":
				cross = r.Expect == Deny
			}
		}
	}
	if !ownRead || !cross {
		t.Errorf("the render role reads its own assets through its endpoint (%v) and not its neighbour's (%v)", ownRead, cross)
	}
	un := m.Unexpected()
	if len(un) == 0 || !leak(un[0].Request) {
		t.Fatalf("the injected allow is not the unexpected row: %v", un)
	}
	dir := t.TempDir()
	if err := m.Write(dir); err != nil {
		t.Fatal(err)
	}
	md, err := os.ReadFile(filepath.Join(dir, "acme-beta.access.md"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(md), "| acme-alpha-render (render) | s3:GetObject | acme-beta-assets-x") || !strings.Contains(string(md), "identity p#S") {
		t.Errorf("the Markdown does not list the unexpected row with its decisive statement:\n%s", md)
	}
	js, err := os.ReadFile(filepath.Join(dir, "acme-beta.access.json"))
	if err != nil || !json.Valid(js) {
		t.Fatalf("acme-beta.access.json: %v", err)
	}
	var rep struct{ Unexpected int }
	if err := json.Unmarshal(js, &rep); err != nil || rep.Unexpected == 0 {
		t.Errorf("the JSON counts %d unexpected rows (%v)", rep.Unexpected, err)
	}
}
