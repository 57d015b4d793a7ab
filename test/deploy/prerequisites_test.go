package deploy

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// requireEnv makes a missing moto_server, or any other missing prerequisite,
// a failure instead of a skip. .ci/run sets it: in CI the deployment test
// must run.
const requireEnv = "RENDERENV_REQUIRE_MOTO"

// motoVersion is the moto the test is written against; .ci/run installs the
// same.
const motoVersion = "5.2.1"

// prerequisites says what the deployment test lacks on this machine, "" when
// nothing, and whether the test skips for it: only a missing moto_server
// skips, and only when requireEnv is not set. Anything else missing is a
// broken set-up, not an optional extra.
func prerequisites() (missing string, skip bool) {
	if _, err := exec.LookPath("moto_server"); err != nil {
		return "moto_server is not installed (pip install 'moto[server]==" + motoVersion + "'); the deployment test needs it", os.Getenv(requireEnv) == ""
	}
	for _, tool := range []string{"python3", "node", "npm"} {
		if _, err := exec.LookPath(tool); err != nil {
			return tool + " is not on PATH; the deployment test needs it", false
		}
	}
	if _, err := os.Stat(cdkCLI); err != nil {
		return "the pinned CDK CLI is not installed (" + err.Error() + "): run `make cli`", false
	}
	if out, err := exec.Command("python3", "-c", "import moto, boto3").CombinedOutput(); err != nil {
		return "python3 cannot import moto and boto3, which moto_server's Python has: " + err.Error() + "\n" + string(out), false
	}
	return "", false
}

// requirePrerequisites skips or fails the test when something is missing.
func requirePrerequisites(t *testing.T) {
	t.Helper()
	missing, skip := prerequisites()
	switch {
	case missing == "":
	case skip:
		t.Skipf("SKIPPED: %s (set %s=1 to make this a failure)", missing, requireEnv)
	case os.Getenv(requireEnv) != "":
		t.Fatalf("%s (%s is set, so this is a failure)", missing, requireEnv)
	default:
		t.Fatal(missing)
	}
}

// TestMissingMotoFailsWhenRequired runs the deployment test in this test
// binary with a PATH that lacks moto_server: with requireEnv set it must
// fail, naming moto_server; without, skip.
func TestMissingMotoFailsWhenRequired(t *testing.T) {
	run := func(require string) (string, error) {
		cmd := exec.Command(os.Args[0], "-test.run", "^TestEstateDeploysToMoto$", "-test.v")
		for _, kv := range os.Environ() {
			if name, _, _ := strings.Cut(kv, "="); name != "PATH" && name != requireEnv {
				cmd.Env = append(cmd.Env, kv)
			}
		}
		cmd.Env = append(cmd.Env, "PATH="+t.TempDir(), requireEnv+"="+require)
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	out, err := run("1")
	if err == nil || !strings.Contains(out, "--- FAIL: TestEstateDeploysToMoto") || !strings.Contains(out, "moto_server is not installed") {
		t.Errorf("with %s=1 and no moto_server the deployment test must fail naming moto_server; exit %v:\n%s", requireEnv, err, out)
	}
	out, err = run("")
	if err != nil || !strings.Contains(out, "--- SKIP: TestEstateDeploysToMoto") {
		t.Errorf("without %s and no moto_server the deployment test must skip; exit %v:\n%s", requireEnv, err, out)
	}
}

// TestCIInstallsThePinnedMoto: .ci/run installs the moto this test is
// written against, and tells the test to fail rather than skip without it.
func TestCIInstallsThePinnedMoto(t *testing.T) {
	ci, err := os.ReadFile(filepath.Join(root, ".ci", "run"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"'moto[server]==" + motoVersion + "'", "export " + requireEnv + "=1"} {
		if !strings.Contains(string(ci), want) {
			t.Errorf(".ci/run lacks %s", want)
		}
	}
}
