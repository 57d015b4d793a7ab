package tagging_test

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/renderenv/renderenv/constructs/tagging"
	"github.com/renderenv/renderenv/internal/cdktest"
	"github.com/renderenv/renderenv/internal/inventory"
)

func TestMain(m *testing.M) { cdktest.Main(m) }

func TestNearestResourceGroupWinsOverTheStacksDefault(t *testing.T) {
	stack := cdktest.NewStack(t, "333333333333", "us-west-2")
	tagging.Apply(stack, map[string]string{
		tagging.KeyStudio:        "acme",
		tagging.KeyProduction:    "nightfall",
		tagging.KeyResourceGroup: string(tagging.Security),
	})
	queue := func(scope constructs.Construct, name string) {
		awssqs.NewQueue(scope, jsii.String(name), &awssqs.QueueProps{QueueName: jsii.String(name)})
	}
	queue(stack, "plain")
	network := constructs.NewConstruct(stack, jsii.String("Network"))
	tagging.Group(network, tagging.Network)
	queue(network, "network")
	logs := constructs.NewConstruct(network, jsii.String("Logs"))
	tagging.Group(logs, tagging.Logging)
	queue(logs, "logs")
	tpl := cdktest.Template(t, stack)

	for name, group := range map[string]tagging.ResourceGroup{"plain": tagging.Security, "network": tagging.Network, "logs": tagging.Logging} {
		cdktest.HasProperties(t, tpl, "AWS::SQS::Queue", map[string]any{
			"QueueName": name,
			"Tags": []any{
				map[string]any{"Key": tagging.KeyProduction, "Value": "nightfall"},
				map[string]any{"Key": tagging.KeyResourceGroup, "Value": string(group)},
				map[string]any{"Key": tagging.KeyStudio, "Value": "acme"},
			},
		})
	}
}

func TestPlainResourcesGetTheStacksTagsOnceBuilt(t *testing.T) {
	stack := cdktest.NewStack(t, "333333333333", "us-west-2")
	tagging.CoverPlainResources(stack, map[string]string{tagging.KeyStudio: "acme", tagging.KeyProduction: "nightfall"})
	plain := func(id, typ string) {
		awscdk.NewCfnResource(stack, jsii.String(id), &awscdk.CfnResourceProps{Type: jsii.String(typ), Properties: &map[string]any{"Description": id}})
	}
	plain("PlainRole", "AWS::IAM::Role")
	plain("PlainFunction", "AWS::Lambda::Function")
	plain("PlainQueue", "AWS::SQS::Queue") // Tags.of cannot reach it either, but it is not asked for
	awsiam.NewCfnRole(stack, jsii.String("L1Role"), &awsiam.CfnRoleProps{AssumeRolePolicyDocument: map[string]any{}, Description: jsii.String("L1Role")})
	boundary := "arn:aws:iam::333333333333:policy/cdk-hnb659fds-renderenv-boundary"
	tagging.TagPlainResources(stack, inventory.Of(stack), jsii.String(boundary))

	raw := cdktest.WrittenTemplate(t, stack)
	var tpl struct {
		Resources map[string]struct {
			Properties json.RawMessage
		}
	}
	if err := json.Unmarshal(raw, &tpl); err != nil {
		t.Fatal(err)
	}
	tags := []any{
		map[string]any{"Key": tagging.KeyProduction, "Value": "nightfall"},
		map[string]any{"Key": tagging.KeyResourceGroup, "Value": string(tagging.Security)},
		map[string]any{"Key": tagging.KeyStudio, "Value": "acme"},
	}
	for id, want := range map[string]bool{"PlainRole": true, "PlainFunction": true, "PlainQueue": false, "L1Role": false} {
		var props map[string]any
		if err := json.Unmarshal(tpl.Resources[id].Properties, &props); err != nil {
			t.Fatalf("%s: %v", id, err)
		}
		if got, ok := props["Tags"]; ok != want || (want && !reflect.DeepEqual(got, tags)) {
			t.Errorf("%s: Tags %v, want tagged %v with %v", id, got, want, tags)
		}
	}
	// CDK's boundary aspect sets PermissionsBoundary at synthesis; the
	// template lists it before Tags, as when the tags went on then too.
	role := string(tpl.Resources["PlainRole"].Properties)
	pb, tg := strings.Index(role, `"PermissionsBoundary"`), strings.Index(role, `"Tags"`)
	if pb < 0 || tg < pb {
		t.Errorf("PlainRole lists PermissionsBoundary at %d and Tags at %d, want the boundary first:\n%s", pb, tg, role)
	}
}

func TestNothingIsTaggedWithoutCoverPlainResources(t *testing.T) {
	stack := cdktest.NewStack(t, "333333333333", "us-west-2")
	awscdk.NewCfnResource(stack, jsii.String("PlainFunction"), &awscdk.CfnResourceProps{Type: jsii.String("AWS::Lambda::Function")})
	tagging.TagPlainResources(stack, inventory.Of(stack), nil)
	cdktest.CountProperties(t, cdktest.Template(t, stack), "AWS::Lambda::Function", map[string]any{"Tags": assertions.Match_AnyValue()}, 0)
}
