// Package productions holds the studio's estate: studio.yaml and one file per
// production. It ships with the acme examples, and a studio replaces them
// with its own (README, Set up). It is embedded into the app so that
// `cdk synth` works out of the box; point the app at another folder with the
// manifests context key or RENDERENV_MANIFESTS. renderenv's own tests read
// their copy of the acme examples in internal/fixtures, never this one,
// except the snapshot tests and the app's and the CLI's default runs.
package productions

import "embed"

// FS is the studio's manifest folder.
//
//go:embed *.yaml
var FS embed.FS
