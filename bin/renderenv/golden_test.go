package main

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden outputs in testdata/")

// golden compares got with the file at path, or rewrites it with -update.
// The temporary folders, which differ from run to run, read $TMP.
func golden(t *testing.T, path, got string) {
	t.Helper()
	got = strings.ReplaceAll(got, os.TempDir(), "$TMP")
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./bin/renderenv -run '%s' -update)", err, t.Name())
	}
	if got != string(want) {
		t.Errorf("%s differs (rewrite it with -update, and read the diff):\ngot:\n%s\nwant:\n%s", path, got, want)
	}
}
