// Package productions holds the shipped example estate. It is embedded into
// the app so that `cdk synth` works out of the box; point the app at another
// folder with the manifests context key or RENDERENV_MANIFESTS.
package productions

import "embed"

// FS is the example manifest folder.
//
//go:embed *.yaml
var FS embed.FS
