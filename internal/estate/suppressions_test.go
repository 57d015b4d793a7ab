package estate_test

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/renderenv/renderenv/internal/cdktest"
	"github.com/renderenv/renderenv/internal/estate"
	"github.com/renderenv/renderenv/internal/inventory"
)

// Each resource takes, in the table's order, exactly the entries whose path
// matches it, also where resources with the same entries take them in one
// call.
func TestSuppressionsGoOnEachResourceInTheTablesOrder(t *testing.T) {
	stack := cdktest.NewStack(t, "333333333333", "us-west-2")
	// resource creates a CfnResource at path below the stack.
	ids := map[string]string{} // logical id to path
	resource := func(path, typ string) {
		var scope constructs.Construct = stack
		parts := strings.Split(path, "/")
		for _, id := range parts[:len(parts)-1] {
			if c := scope.Node().TryFindChild(jsii.String(id)); c != nil {
				scope = c.(constructs.Construct)
			} else {
				scope = constructs.NewConstruct(scope, jsii.String(id))
			}
		}
		r := awscdk.NewCfnResource(scope, jsii.String(parts[len(parts)-1]), &awscdk.CfnResourceProps{Type: jsii.String(typ)})
		ids[stack.Resolve(r.LogicalId()).(string)] = path
	}
	const inline, igw, iam5 = "NIST.800.53.R5-IAMNoInlinePolicy", "NIST.800.53.R5-VPCNoUnrestrictedRouteToIGW", "AwsSolutions-IAM5"
	want := map[string][]string{
		"Hub/Vpc/front-endSubnet1/DefaultRoute": {inline, igw},
		"Scheduler/DefaultPolicy/Resource":      {iam5, inline},
		"Queues/A/Resource":                     {inline},
		"Queues/B/Resource":                     {inline},
	}
	resource("Hub/Vpc/front-endSubnet1/DefaultRoute", "AWS::EC2::Route")
	resource("Scheduler/DefaultPolicy/Resource", "AWS::IAM::Policy")
	resource("Queues/A/Resource", "AWS::SQS::Queue")
	resource("Queues/B/Resource", "AWS::SQS::Queue")
	used := map[int]int{}
	estate.ApplySuppressions(stack, inventory.Of(stack), used)

	raw := cdktest.WrittenTemplate(t, stack)
	var tpl struct {
		Resources map[string]struct {
			Metadata struct {
				CdkNag struct {
					Rules []struct{ ID string } `json:"rules_to_suppress"`
				} `json:"cdk_nag"`
			}
		}
	}
	if err := json.Unmarshal(raw, &tpl); err != nil {
		t.Fatal(err)
	}
	got := map[string][]string{}
	for id, r := range tpl.Resources {
		for _, rule := range r.Metadata.CdkNag.Rules {
			got[ids[id]] = append(got[ids[id]], rule.ID)
		}
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("suppressions by resource:\n got %v\nwant %v", got, want)
	}
	for i, s := range estate.Suppressions {
		n := map[string]int{inline: 4, igw: 1}[s.Rule]
		if s.Rule == iam5 && s.Path.MatchString("Scheduler/DefaultPolicy/Resource") {
			n = 1
		}
		if used[i] != n {
			t.Errorf("entry %d (%s %s) used %d times, want %d", i, s.Rule, s.Path, used[i], n)
		}
	}
}
