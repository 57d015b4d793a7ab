package inventory_test

import (
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/renderenv/renderenv/internal/cdktest"
	"github.com/renderenv/renderenv/internal/inventory"
)

func TestMain(m *testing.M) { cdktest.Main(m) }

func TestOfListsEveryResourceWithPathAndType(t *testing.T) {
	stack := cdktest.NewStack(t, "333333333333", "us-west-2")
	awssqs.NewQueue(stack, jsii.String("Queue"), nil)
	// An id may hold what the string form puts around the type.
	odd := constructs.NewConstruct(stack, jsii.String("Odd [x] id"))
	awscdk.NewCfnResource(odd, jsii.String("Plain"), &awscdk.CfnResourceProps{Type: jsii.String("AWS::Lambda::Function")})
	stackPath := *stack.Node().Path()

	got := inventory.Of(stack)
	want := []struct{ path, typ string }{
		{stackPath + "/Queue/Resource", "AWS::SQS::Queue"},
		{stackPath + "/Odd [x] id/Plain", "AWS::Lambda::Function"},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d resources %+v, want %d", len(got), got, len(want))
	}
	for i, w := range want {
		if got[i].Path != w.path || got[i].Type != w.typ {
			t.Errorf("resource %d: %q [%s], want %q [%s]", i, got[i].Path, got[i].Type, w.path, w.typ)
		}
		if *got[i].Construct.Node().Path() != w.path {
			t.Errorf("resource %d: construct at %s, want %s", i, *got[i].Construct.Node().Path(), w.path)
		}
	}
}
