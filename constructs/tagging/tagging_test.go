package tagging_test

import (
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/renderenv/renderenv/constructs/tagging"
	"github.com/renderenv/renderenv/internal/cdktest"
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
