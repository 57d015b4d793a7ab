package main

import (
	"path/filepath"
	"testing"
)

func TestValidateWarnsAboutEndedProductionsAndStillPasses(t *testing.T) {
	dir := t.TempDir()
	copyBase(t, dir)
	breakFile(t, filepath.Join(dir, "harbour.yaml"), "endDate: 2027-02-28", "endDate: 2026-06-30")
	t.Setenv("RENDERENV_TODAY", "2026-07-01")
	code, stdout, stderr := runCLI("validate", dir)
	const msg = " has passed: sanitise and close the production's environment (ISE 6.2, 10.9), or move endDate\n"
	want := dir + "/harbour.yaml:10: endDate: warning: 2026-06-30" + msg + dir + "/lighthouse.yaml:10: endDate: warning: 2026-05-31" + msg
	if code != 0 || stdout == "" || stderr != want {
		t.Errorf("renderenv validate DIR = %d\nstdout: %q\nstderr: %q\nwant 0, the valid line and stderr %q", code, stdout, stderr, want)
	}
}
