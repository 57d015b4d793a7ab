package shard

import (
	"encoding/json"
	"fmt"
	"maps"
	"os"

	"github.com/renderenv/renderenv/internal/estate"
)

// The CDK CLI hands the app its context in the environment: as JSON in
// CDK_CONTEXT_JSON, or, when that would be too long, in a file that
// CONTEXT_OVERFLOW_LOCATION_ENV names (aws-cdk-lib's cx-api).
const (
	envContext         = "CDK_CONTEXT_JSON"
	envContextOverflow = "CONTEXT_OVERFLOW_LOCATION_ENV"
)

// Context is the CDK context the app would see, read without a jsii
// runtime: the context of root/cdk.json, then the CLI's, which wins.
func Context(root string) (map[string]any, error) {
	out, err := estate.Flags(root)
	if err != nil {
		return nil, err
	}
	if out == nil {
		out = map[string]any{}
	}
	read := func(what string, b []byte) error {
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			return fmt.Errorf("reading the CDK context from %s: %w", what, err)
		}
		maps.Copy(out, m)
		return nil
	}
	if v := os.Getenv(envContext); v != "" {
		if err := read(envContext, []byte(v)); err != nil {
			return nil, err
		}
	}
	if file := os.Getenv(envContextOverflow); file != "" {
		b, err := os.ReadFile(file)
		if err != nil {
			return nil, fmt.Errorf("reading the CDK context: %w", err)
		}
		if err := read(file, b); err != nil {
			return nil, err
		}
	}
	return out, nil
}
