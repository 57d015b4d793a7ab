package plan

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/renderenv/renderenv/internal/cfn"
)

// shippedEstate reads the golden snapshots of the shipped estate's
// templates (test/testdata/snapshots, which the snapshot test keeps equal
// to what cdk synth writes for productions/): the same resources as its
// cloud assembly, without synthesizing it.
func shippedEstate(t *testing.T) *cfn.Assembly {
	t.Helper()
	names, err := filepath.Glob(filepath.Join("..", "..", "test", "testdata", "snapshots", "*.template.json"))
	if err != nil || len(names) == 0 {
		t.Fatalf("no snapshot of the shipped estate: %v", err)
	}
	var stacks []*cfn.Stack
	for _, name := range names {
		b, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		s, err := cfn.ParseTemplate(strings.TrimSuffix(filepath.Base(name), ".template.json"), b)
		if err != nil {
			t.Fatal(err)
		}
		stacks = append(stacks, s)
	}
	a, err := cfn.NewAssembly(stacks...)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// The README says the example estate idles at about $800 a month and each
// production of its own adds about $130, most of it interface endpoints
// per zone and Transit Gateway attachments. This pins the figures, so a
// change to the constructs or the price table that moves them shows here.
func TestShippedEstateCostsAbout800AMonth(t *testing.T) {
	a := shippedEstate(t)
	total := Cost{}
	per := map[string]float64{}
	for _, s := range a.Stacks {
		c := ListPrices.Stack(s)
		total = total.Plus(c)
		per[s.Name] = c.Monthly
	}
	if got := round(total.Monthly); got != 842.30 {
		t.Errorf("shipped estate: %s a month, want $842.30", Dollars(got))
	}
	for stack, want := range map[string]float64{
		"acme-harbour":            127.10, // 6 endpoints in 2 zones, 1 attachment, 3 keys
		"acme-lighthouse":         127.10,
		"acme-nightfall":          170.90, // 9 endpoints (ecr.api, ecr.dkr, datasync)
		"acme-nightfall-dr":       1.00,   // the replica key; the replica bucket is charged by use
		"acme-nightfall-exchange": 1.00,   // the exchange key
		"acme-brightside":         0,      // pooled: its network and keys are the pool's
		"acme-network":            285.70,
		"acme-logging":            2.40,
	} {
		if got := round(per[stack]); got != want {
			t.Errorf("%s: %s a month, want %s", stack, Dollars(got), Dollars(want))
		}
	}
	endpoints := total.Items["AWS::EC2::VPCEndpoint"].Monthly
	attachments := total.Items["AWS::EC2::TransitGatewayAttachment"].Monthly
	if share := (endpoints + attachments) / total.Monthly; share < 0.7 {
		t.Errorf("interface endpoints and attachments are %.0f%% of the cost, want most of it", 100*share)
	}
	for _, typ := range []string{"AWS::CloudTrail::Trail", "AWS::Logs::LogGroup", "AWS::Route53Resolver::FirewallRuleGroupAssociation"} {
		if total.Usage[typ] == "" {
			t.Errorf("%s: its usage costs are not named", typ)
		}
	}
}

func TestPricesOfOneResource(t *testing.T) {
	s := cfn.TemplateFromMap("s", map[string]any{"Resources": map[string]any{
		"Interface": map[string]any{"Type": "AWS::EC2::VPCEndpoint", "Properties": map[string]any{"VpcEndpointType": "Interface", "SubnetIds": []any{"a", "b", "c"}}},
		"Gateway":   map[string]any{"Type": "AWS::EC2::VPCEndpoint", "Properties": map[string]any{"VpcEndpointType": "Gateway"}},
		"TgwVpn":    map[string]any{"Type": "AWS::EC2::VPNConnection", "Properties": map[string]any{"TransitGatewayId": "tgw-1"}},
		"VgwVpn":    map[string]any{"Type": "AWS::EC2::VPNConnection", "Properties": map[string]any{"VpnGatewayId": "vgw-1"}},
		"Trail":     map[string]any{"Type": "AWS::CloudTrail::Trail", "Properties": map[string]any{}},
		"Role":      map[string]any{"Type": "AWS::IAM::Role", "Properties": map[string]any{}},
	}})
	for id, want := range map[string]float64{"Interface": 21.90, "Gateway": 0, "TgwVpn": 73.00, "VgwVpn": 36.50, "Trail": 0, "Role": 0} {
		if _, got, _ := ListPrices.Resource(s.Resource(id)); got != want {
			t.Errorf("%s: %s a month, want %s", id, Dollars(got), Dollars(want))
		}
	}
	if got := Dollars(1234567.891); got != "$1,234,567.89" {
		t.Errorf("Dollars = %s", got)
	}
}

// Every stateful type, and every type the shipped estate creates, has an
// entry in the replacement table (empty when no property replaces it), so
// that a type the constructs start to create is reviewed against the
// CloudFormation reference before plan reports its changes.
func TestReplacementTableCoversStatefulTypes(t *testing.T) {
	for typ := range stateful {
		if _, ok := replacing[typ]; !ok {
			t.Errorf("%s is stateful but has no entry in replacing", typ)
		}
	}
	for _, typ := range shippedEstate(t).Types() {
		if _, ok := replacing[typ]; !ok && strings.HasPrefix(typ, "AWS::") {
			t.Errorf("the shipped estate creates %s, which the replacement table does not list", typ)
		}
	}
}
