package estate

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// The context keys under which NewApp records the tool versions of
// package-lock.json, for the pipeline's generated build steps.
const (
	cliVersionKey    = "renderenv:cdkCliVersion"
	assetsVersionKey = "renderenv:cdkAssetsVersion"
)

// Tools are the exact versions of the CDK CLI and cdk-assets that
// package-lock.json pins: the pipeline installs these and nothing newer, so
// a release of either on npm changes nothing until the lock file does.
type Tools struct {
	CLI, Assets string
}

// ReadTools reads the pinned versions from root/package-lock.json.
func ReadTools(root string) (Tools, error) {
	file := filepath.Join(root, "package-lock.json")
	data, err := os.ReadFile(file)
	if err != nil {
		return Tools{}, err
	}
	var lock struct {
		Packages map[string]struct {
			Version string `json:"version"`
		} `json:"packages"`
	}
	if err := json.Unmarshal(data, &lock); err != nil {
		return Tools{}, fmt.Errorf("%s: %w", file, err)
	}
	t := Tools{CLI: lock.Packages["node_modules/aws-cdk"].Version, Assets: lock.Packages["node_modules/cdk-assets"].Version}
	if t.CLI == "" || t.Assets == "" {
		return Tools{}, fmt.Errorf("%s pins no version of aws-cdk or cdk-assets: both must be devDependencies", file)
	}
	return t, nil
}

// addTools records root's pinned tool versions in the app context; a
// project without a lock file records none, and a pipeline then refuses to
// build (pipelineTools).
func addTools(root string, context map[string]any) error {
	t, err := ReadTools(root)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	context[cliVersionKey], context[assetsVersionKey] = t.CLI, t.Assets
	return nil
}
