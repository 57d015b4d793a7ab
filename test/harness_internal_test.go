package test

import (
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"
)

func TestJsiiPanicsBecomeMessages(t *testing.T) {
	err := protect("synthesis", func() error {
		app := awscdk.NewApp(nil)
		awscdk.NewStack(app, jsii.String("Twice"), nil)
		awscdk.NewStack(app, jsii.String("Twice"), nil) // jsii panics: duplicate id
		return nil
	})
	if err == nil {
		t.Fatal("a construct id used twice must fail")
	}
	msg := err.Error()
	if !strings.HasPrefix(msg, "synthesis panicked: ") || !strings.Contains(msg, "Twice") {
		t.Errorf("want the JavaScript error named, got:\n%s", msg)
	}
	if n := strings.Count(msg, "\n"); n > 12 {
		t.Errorf("message keeps %d lines; want the first few, not the stack", n)
	}
}

func TestInvalidManifestsFailSynthesisWithTheirErrors(t *testing.T) {
	spec := estateSpec{name: "invalid", files: func() map[string][]byte {
		return map[string][]byte{"studio.yaml": []byte("studio: acme\nregion: nowhere-1\n")}
	}}
	_, err := synthesize(t, spec)
	if err == nil || !strings.Contains(err.Error(), "studio.yaml") || !strings.Contains(err.Error(), "region") {
		t.Errorf("want the manifest errors, got %v", err)
	}
}

func TestAnEstateWithoutFilesIsRefused(t *testing.T) {
	_, err := synthesize(t, estateSpec{name: "nameless"})
	if err == nil || !strings.Contains(err.Error(), "productions/ is the studio's") {
		t.Errorf("an estate without files must be refused (only productionsEstate reads productions/), got %v", err)
	}
}
