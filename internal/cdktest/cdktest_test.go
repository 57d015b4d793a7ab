package cdktest_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/jsii-runtime-go"

	"github.com/renderenv/renderenv/internal/cdktest"
)

func TestMain(m *testing.M) { cdktest.Main(m) }

// recorder keeps what Check reports instead of failing the real test.
type recorder struct {
	testing.TB
	errors []string
}

func (r *recorder) Errorf(format string, args ...any) {
	r.errors = append(r.errors, fmt.Sprintf(format, args...))
}

func (r *recorder) Helper() {}

func TestCheckTurnsAFailingAssertionIntoOneMessage(t *testing.T) {
	stack := cdktest.NewStack(t, "123456789012", "us-west-2")
	awssqs.NewQueue(stack, jsii.String("Queue"), &awssqs.QueueProps{QueueName: jsii.String("q")})
	tpl := cdktest.Template(t, stack)

	rec := &recorder{TB: t}
	cdktest.Check(rec, "passing", func() {
		tpl.HasResourceProperties(jsii.String("AWS::SQS::Queue"), map[string]any{"QueueName": "q"})
	})
	if len(rec.errors) != 0 {
		t.Fatalf("a passing assertion reported %q", rec.errors)
	}
	cdktest.Check(rec, "failing", func() {
		tpl.HasResourceProperties(jsii.String("AWS::SQS::Queue"), map[string]any{"QueueName": "other"})
	})
	if len(rec.errors) != 1 {
		t.Fatalf("a failing assertion reported %d errors, want 1", len(rec.errors))
	}
	msg := rec.errors[0]
	t.Logf("reported:\n%s", msg)
	if !strings.HasPrefix(msg, "failing:") || !strings.Contains(msg, "QueueName") {
		t.Errorf("the report should name the check and the mismatch, got:\n%s", msg)
	}
	if strings.Contains(msg, "    at ") || strings.Contains(msg, "goroutine ") {
		t.Errorf("the report carries a stack dump:\n%s", msg)
	}
}

func TestStacksSeeTheSeededZones(t *testing.T) {
	stack := cdktest.NewStack(t, "123456789012", "eu-west-1")
	got := *stack.AvailabilityZones()
	if len(got) != 2 || *got[0] != "eu-west-1a" || *got[1] != "eu-west-1b" {
		var s []string
		for _, z := range got {
			s = append(s, *z)
		}
		t.Errorf("AvailabilityZones = %v, want [eu-west-1a eu-west-1b]", s)
	}
}

func TestTheAppCarriesTheFeatureFlagsOfCdkJson(t *testing.T) {
	stack := cdktest.NewStack(t, "123456789012", "us-west-2")
	v := stack.Node().TryGetContext(jsii.String("@aws-cdk/aws-ec2:restrictDefaultSecurityGroup"))
	if v != true {
		t.Errorf("@aws-cdk/aws-ec2:restrictDefaultSecurityGroup = %v, want true from cdk.json", v)
	}
}
