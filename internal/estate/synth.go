package estate

import (
	"time"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/cxapi"

	"github.com/renderenv/renderenv/internal/manifest"
)

// Synthesis is one estate built and synthesized into a cloud assembly.
type Synthesis struct {
	Estate   *Estate
	Assembly cxapi.CloudAssembly
	// Dir is the assembly's folder.
	Dir string
	// Findings are the unsuppressed cdk-nag errors (with Options.Checks).
	Findings []Finding
	// How long each step took: building the constructs, synthesizing the
	// assembly and reading its findings.
	Build, Synth, Read time.Duration
}

// Synthesize builds the stacks of a validated estate in app and synthesizes
// them. It is the one path from manifests to templates: the CDK app, the
// renderenv command, the tests and the benchmark all take it.
func Synthesize(app awscdk.App, e *manifest.Estate, opts Options) (*Synthesis, error) {
	start := time.Now()
	est, err := BuildWith(app, e, opts)
	if err != nil {
		return nil, err
	}
	built := time.Now()
	asm := app.Synth(nil)
	synthesized := time.Now()
	s := &Synthesis{Estate: est, Assembly: asm, Dir: *asm.Directory(), Build: built.Sub(start), Synth: synthesized.Sub(built)}
	if opts.Checks {
		s.Findings = Errors(asm)
	}
	s.Read = time.Since(synthesized)
	return s, nil
}
