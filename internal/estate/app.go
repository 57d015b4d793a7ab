package estate

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"

	"github.com/renderenv/renderenv/internal/bootstrap"
	// Before any jsii call: the runtime reads its package cache setting,
	// and which program starts its kernel, when it starts.
	"github.com/renderenv/renderenv/internal/jsiienv"
)

// The CDK's context keys that turn off the stack traces it records in the
// cloud assembly's metadata: of each CloudFormation element's creation, and
// of each metadata entry.
const (
	creationStackTraces = "aws:cdk:disable-creation-stack-traces"
	metadataStackTraces = "aws:cdk:disable-stack-trace"
)

// NewApp creates a CDK app with the feature flags of the project's cdk.json,
// so that `cdk synth`, a plain `go run ./bin/app` and the tests all produce
// the same templates. root is the folder that holds cdk.json.
func NewApp(root string, outdir string) (awscdk.App, error) {
	// A bad RENDERENV_JSII_KERNEL is refused before the first jsii call.
	if err := jsiienv.Err(); err != nil {
		return nil, err
	}
	flags, err := Flags(root)
	if err != nil {
		return nil, err
	}
	if flags == nil {
		flags = map[string]any{}
	}
	if err := addTools(root, flags); err != nil {
		return nil, err
	}
	// Every role the stacks create carries renderenv bootstrap's boundary,
	// which the execution role's boundary requires of each new role.
	flags[PermissionsBoundaryContext] = map[string]any{"name": bootstrap.BoundaryName("${Qualifier}")}
	// Stack traces through jsii show the jsii runtime, never the Go code
	// that made a construct ("no user code"), and name the runtime's
	// temporary folder, so that no two assemblies would be the same. CDK_DEBUG
	// (cdk --debug) still records them.
	flags[creationStackTraces] = true
	flags[metadataStackTraces] = true
	props := &awscdk.AppProps{Context: &flags}
	if outdir != "" {
		props.Outdir = jsii.String(outdir)
	}
	return awscdk.NewApp(props), nil
}

// PermissionsBoundaryContext is the CDK's context key of the permissions
// boundary it gives every role of a scope.
const PermissionsBoundaryContext = "@aws-cdk/core:permissionsBoundary"

// Flags reads the context of root/cdk.json.
func Flags(root string) (map[string]any, error) {
	data, err := os.ReadFile(filepath.Join(root, "cdk.json"))
	if err != nil {
		return nil, fmt.Errorf("reading the feature flags: %w", err)
	}
	var cfg struct {
		Context map[string]any `json:"context"`
	}
	if err := json.Unmarshal(data, &cfg); err != nil {
		return nil, fmt.Errorf("reading the feature flags: %s: %w", filepath.Join(root, "cdk.json"), err)
	}
	return cfg.Context, nil
}

// ProjectRoot is the nearest folder at or above the working directory that
// holds cdk.json: the project whose feature flags synthesis must use to
// match `cdk synth`.
func ProjectRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "cdk.json")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("no cdk.json in the working directory or above it: run inside the renderenv project")
		}
		dir = parent
	}
}
