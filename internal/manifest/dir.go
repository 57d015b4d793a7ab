package manifest

import (
	"os"

	"github.com/renderenv/renderenv/productions"
)

// EnvManifests is the environment variable that names a manifest folder.
const EnvManifests = "RENDERENV_MANIFESTS"

// LoadDir loads the manifest folder dir, or the embedded example estate when
// dir is empty. Errors name files as dir/<file>.
func LoadDir(dir string) (*Estate, ErrorList) {
	if dir == "" {
		return Load(productions.FS, "productions")
	}
	st, err := os.Stat(dir)
	if err != nil || !st.IsDir() {
		return nil, ErrorList{{File: dir, Message: "not a manifest folder"}}
	}
	return Load(os.DirFS(dir), dir)
}
