package evidence

import (
	"maps"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/renderenv/renderenv/internal/cfn"
	"github.com/renderenv/renderenv/internal/rules"
)

// resource makes a resource of a one-resource template.
func resource(typ string, props map[string]any) *cfn.Resource {
	s := cfn.TemplateFromMap("test", map[string]any{"Resources": map[string]any{"R": map[string]any{"Type": typ, "Properties": props}}})
	return s.Resource("R")
}

// Unit tests of the evaluators the checks rely on; they need no synthesis.

func TestSelectorCovers(t *testing.T) {
	object := "arn:aws:s3:::acme-nightfall-assets-333333333333-us-west-2/shots/a.exr"
	data := map[string]any{"Field": "eventCategory", "Equals": []any{"Data"}}
	s3obj := map[string]any{"Field": "resources.type", "Equals": []any{"AWS::S3::Object"}}
	for _, tc := range []struct {
		name   string
		fields []any
		want   bool
	}{
		{"studio prefix", []any{data, s3obj, map[string]any{"Field": "resources.ARN", "StartsWith": []any{"arn:aws:s3:::acme-"}}}, true},
		{"carved out", []any{data, s3obj, map[string]any{"Field": "resources.ARN", "StartsWith": []any{"arn:aws:s3:::acme-"}, "NotStartsWith": []any{"arn:aws:s3:::acme-nightfall-assets-333333333333-us-west-2/"}}}, false},
		{"another studio", []any{data, s3obj, map[string]any{"Field": "resources.ARN", "StartsWith": []any{"arn:aws:s3:::other-"}}}, false},
		{"every object", []any{data, s3obj}, true},
		{"management only", []any{map[string]any{"Field": "eventCategory", "Equals": []any{"Management"}}}, false},
		{"narrowed by event name", []any{data, s3obj, map[string]any{"Field": "eventName", "Equals": []any{"PutObject"}}}, false},
		{"only reads", []any{data, s3obj, map[string]any{"Field": "readOnly", "Equals": []any{"true"}}}, true},
	} {
		sel := map[string]any{"FieldSelectors": tc.fields}
		if got := selectorCovers(sel, object, true); got != tc.want {
			t.Errorf("%s: selectorCovers(read) = %v, want %v", tc.name, got, tc.want)
		}
	}
	// A trail whose only data selector records reads does not cover writes.
	trail := resource("AWS::CloudTrail::Trail", map[string]any{"AdvancedEventSelectors": []any{map[string]any{"FieldSelectors": []any{data, s3obj, map[string]any{"Field": "readOnly", "Equals": []any{"true"}}}}}})
	if _, ok := trailCoversObject(trail, object); ok {
		t.Error("a read-only selector counts as recording writes")
	}
	basic := resource("AWS::CloudTrail::Trail", map[string]any{"EventSelectors": []any{map[string]any{"ReadWriteType": "All", "DataResources": []any{map[string]any{"Type": "AWS::S3::Object", "Values": []any{"arn:aws:s3:::acme-nightfall-assets-333333333333-us-west-2/"}}}}}})
	if _, ok := trailCoversObject(basic, object); !ok {
		t.Error("a classic event selector on the bucket does not count")
	}
}

func TestNetworkAclEvaluation(t *testing.T) {
	entry := func(n float64, egress, allow bool, cidr string, all bool) naclEntry {
		return naclEntry{res: &cfn.Resource{ID: cidr}, number: n, egress: egress, allow: allow, cidr: netip.MustParsePrefix(cidr), all: all}
	}
	acl := []naclEntry{
		entry(100, false, true, "10.20.0.0/16", true),
		entry(110, false, true, "10.0.0.0/16", true),
		entry(130, false, false, "10.0.0.0/8", true),
		entry(160, false, true, "0.0.0.0/0", false),
	}
	for _, tc := range []struct {
		target string
		denied bool
		by     string
	}{
		{"10.30.0.0/20", true, "10.0.0.0/8"},
		{"10.0.0.0/16", false, "10.0.0.0/16"},
		{"10.20.4.0/22", false, "10.20.0.0/16"},
		{"172.16.0.0/12", false, "0.0.0.0/0"}, // no deny for it: the 0.0.0.0/0 allow lets it in
		{"10.0.0.0/8", false, "10.20.0.0/16"}, // part of it is allowed first
	} {
		ok, by := denies(acl, false, netip.MustParsePrefix(tc.target))
		if ok != tc.denied || by == nil || by.res.ID != tc.by {
			t.Errorf("denies(%s) = %v by %v, want %v by %s", tc.target, ok, by, tc.denied, tc.by)
		}
	}
	if ok, by := denies(acl, true, netip.MustParsePrefix("10.30.0.0/20")); !ok || by != nil {
		t.Errorf("no egress entry: want the default deny, got %v by %v", ok, by)
	}
}

func TestPolicyHelpers(t *testing.T) {
	key := resource("AWS::KMS::Key", map[string]any{"KeyPolicy": map[string]any{"Statement": []any{
		map[string]any{"Sid": "Use", "Effect": "Allow", "Action": []any{"kms:GenerateDataKey*", "kms:Decrypt"}, "Resource": "*",
			"Condition": map[string]any{"StringEquals": map[string]any{"kms:ViaService": "s3.us-west-2.amazonaws.com"}}},
		map[string]any{"Effect": "Allow", "NotAction": "kms:Decrypt", "Resource": "*"},
	}}})
	a, err := cfn.NewAssembly(key.Stack)
	if err != nil {
		t.Fatal(err)
	}
	st := a.PoliciesOf(key)[0].Statements
	if b := bounded(st[0]); len(b) != 1 || b[0] != "kms:ViaService" {
		t.Errorf("bounded = %v", b)
	}
	if b := bounded(st[1]); len(b) != 0 {
		t.Errorf("bounded = %v, want none", b)
	}
	if got := grantsAny(st[0], kmsUseActions); !slices.Equal(got, []string{"kms:Decrypt", "kms:GenerateDataKey", "kms:GenerateDataKeyWithoutPlaintext"}) {
		t.Errorf("grantsAny(use) = %v", got)
	}
	if got := grantsAny(st[1], kmsUseActions); slices.Contains(got, "kms:Decrypt") || !slices.Contains(got, "kms:Encrypt") {
		t.Errorf("NotAction kms:Decrypt grants %v", got)
	}
	found := map[string][2]string{}
	accountsIn(map[string]any{"Principal": map[string]any{"AWS": "arn:aws:iam::111111111111:root"}, "Name": "bucket-333333333333-us-west-2", "Size": "1234567890123"}, "", found)
	if len(found) != 2 || found["111111111111"][0] != "Principal.AWS" || found["333333333333"][0] != "Name" {
		t.Errorf("accountsIn = %v", found)
	}
}

func TestTagProblems(t *testing.T) {
	want := map[string]string{"Studio": "acme", "Production": "nightfall", "Tier": "1", "CostCentre": "CC-1", "ResourceGroup": ""}
	good := map[string]string{"Studio": "acme", "Production": "nightfall", "Tier": "1", "CostCentre": "CC-1", "ResourceGroup": "network"}
	if p := tagProblems(good, want); len(p) != 0 {
		t.Errorf("good tags: %v", p)
	}
	bad := map[string]string{"Studio": "acme", "Production": "harbour", "Tier": "1", "ResourceGroup": "misc"}
	if p := tagProblems(bad, want); len(p) != 3 {
		t.Errorf("bad tags: %v, want three problems", p)
	}
	lt := resource("AWS::EC2::LaunchTemplate", map[string]any{"TagSpecifications": []any{map[string]any{"ResourceType": "launch-template", "Tags": []any{map[string]any{"Key": "Studio", "Value": "acme"}}}}})
	if tags, ok := tagsOf(lt); !ok || tags["Studio"] != "acme" {
		t.Errorf("launch template tags = %v, %v", tags, ok)
	}
	param := resource("AWS::SSM::Parameter", map[string]any{"Tags": map[string]any{"Studio": "acme"}})
	if tags, ok := tagsOf(param); !ok || tags["Studio"] != "acme" {
		t.Errorf("map tags = %v, %v", tags, ok)
	}
}

func TestCatalogueIsWellFormed(t *testing.T) {
	seen := map[string]bool{}
	for _, d := range catalogue {
		if seen[d.id] {
			t.Errorf("control %s twice", d.id)
		}
		seen[d.id] = true
		if d.title == "" || d.area == "" || d.how == "" {
			t.Errorf("control %s lacks a title, area or summary", d.id)
		}
		switch d.scope {
		case scopeTemplates:
			if len(d.checks) == 0 {
				t.Errorf("control %s is the templates' but has no check", d.id)
			}
		case scopeShared, scopeStudio:
			if len(d.studio) == 0 && d.studioFor == nil {
				t.Errorf("control %s leaves work to the studio but says none", d.id)
			}
		default:
			t.Errorf("control %s has scope %q", d.id, d.scope)
		}
	}
}

// TestRulesCitedByControls: the rules' Controls and the catalogue agree.
// Every control a rule serves is in the catalogue, every rule a check rests
// on exists, and every control a rule serves cites it.
func TestRulesCitedByControls(t *testing.T) {
	ids := map[string]definition{}
	for _, d := range catalogue {
		ids[d.id] = d
	}
	for _, r := range rules.All() {
		if len(r.Controls) == 0 {
			t.Errorf("%s serves no control", r.ID)
		}
		for _, c := range r.Controls {
			d, ok := ids[c]
			if !ok {
				t.Errorf("%s serves control %s, which the catalogue does not have", r.ID, c)
				continue
			}
			if !slices.Contains(d.ruleIDs(), r.ID) {
				t.Errorf("control %s does not cite %s, which serves it", c, r.ID)
			}
		}
	}
	for _, d := range catalogue {
		for _, ch := range d.checks {
			for _, id := range ch.rules {
				if _, ok := rules.Lookup(id); !ok {
					t.Errorf("control %s, check %q rests on %s, which the rule set does not have", d.id, ch.name, id)
				}
			}
		}
	}
	// The derivation itself: a control cites exactly the rules that serve
	// it and those its checks rest on.
	for _, d := range catalogue {
		want := map[string]bool{}
		for _, r := range rules.All() {
			if slices.Contains(r.Controls, d.id) {
				want[r.ID] = true
			}
		}
		for _, ch := range d.checks {
			for _, id := range ch.rules {
				want[id] = true
			}
		}
		if got := d.ruleIDs(); len(got) != len(want) || !slices.IsSorted(got) {
			t.Errorf("control %s cites %v, want the %d rules %v", d.id, got, len(want), strings.Join(slices.Sorted(maps.Keys(want)), ", "))
		}
	}
}
