package estate

import (
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/cxapi"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"
)

// Nag runs the cdk-nag AwsSolutions and NIST 800-53 rev 5 packs over every
// stack of the estate at synthesis. Aspects stop at stage boundaries, so
// each pipeline stage gets the packs too.
func Nag(app awscdk.App, est *Estate) {
	scopes := []constructs.IConstruct{app}
	if est.Pipeline != nil {
		for _, name := range slices.Sorted(maps.Keys(est.Pipeline.Stages)) {
			scopes = append(scopes, est.Pipeline.Stages[name])
		}
	}
	props := &cdknag.NagPackProps{Verbose: jsii.Bool(true), Reports: jsii.Bool(false)}
	for _, s := range scopes {
		awscdk.Aspects_Of(s).Add(cdknag.NewAwsSolutionsChecks(props), nil)
		awscdk.Aspects_Of(s).Add(cdknag.NewNIST80053R5Checks(props), nil)
	}
}

// Finding is one error annotation left in a synthesized assembly.
type Finding struct {
	Stack, Path, Message string
}

func (f Finding) String() string { return fmt.Sprintf("%s %s: %s", f.Stack, f.Path, f.Message) }

// Errors returns the error annotations of every stack of a synthesized
// assembly: unsuppressed cdk-nag findings among them.
func Errors(asm cxapi.CloudAssembly) []Finding {
	var out []Finding
	for _, st := range *asm.StacksRecursively() {
		for _, m := range *st.Messages() {
			if m.Level != cxapi.SynthesisMessageLevel_ERROR {
				continue
			}
			msg := fmt.Sprint(m.Entry.Data)
			if s, ok := m.Entry.Data.(*string); ok && s != nil {
				msg = *s
			}
			out = append(out, Finding{Stack: *st.StackName(), Path: *m.Id, Message: strings.SplitN(msg, "\n", 2)[0]})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].String() < out[j].String() })
	return out
}
