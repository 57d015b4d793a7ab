package estate

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/renderenv/renderenv/internal/manifest"
)

// TestApproverCheckAcceptsOnlyNamedApprovers runs the check's commands in
// sh against a fake aws that reports the given approval.
func TestApproverCheckAcceptsOnlyNamedApprovers(t *testing.T) {
	approvers := []manifest.Person{{PermissionSet: "acme-Release"}, {RoleArn: "arn:aws:iam::111111111111:role/release/Approver"}}
	script := strings.Join(approverCheckCommands("acme-estate", "Approve-acme-nightfall", "111111111111", approvers,
		"arn:aws:sts::111111111111:assumed-role/$AUTO_CONFIRMER/*"), "\n")
	cases := []struct {
		status, by string
		ok         bool
	}{
		{"Succeeded", "arn:aws:sts::111111111111:assumed-role/AWSReservedSSO_acme-Release_0123456789abcdef/jo", true},
		{"Succeeded", "arn:aws:sts::111111111111:assumed-role/Approver/jo", true},
		{"Succeeded", "arn:aws:sts::111111111111:assumed-role/acme-pipeline-AutoApproveRole-X1/fn", true},
		{"Succeeded", "arn:aws:sts::111111111111:assumed-role/acme-pipeline-OtherRole-X1/fn", false},
		{"Succeeded", "arn:aws:sts::111111111111:assumed-role/AWSReservedSSO_acme-ReleaseX_0123456789abcdef/jo", false},
		{"Succeeded", "arn:aws:sts::111111111111:assumed-role/AWSReservedSSO_AdministratorAccess_0123456789abcdef/jo", false},
		{"Succeeded", "arn:aws:sts::222222222222:assumed-role/Approver/jo", false},
		{"Succeeded", "arn:aws:iam::111111111111:user/admin", false},
		{"Failed", "arn:aws:sts::111111111111:assumed-role/Approver/jo", false},
	}
	for _, c := range cases {
		bin := t.TempDir()
		fake := "#!/bin/sh\ncase \"$*\" in *latestExecution.status*) echo '" + c.status + "' ;; *latestExecution.lastUpdatedBy*) echo '" + c.by + "' ;; esac\n"
		if err := os.WriteFile(filepath.Join(bin, "aws"), []byte(fake), 0o755); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command("sh", "-c", script)
		cmd.Env = append(os.Environ(), "PATH="+bin+":"+os.Getenv("PATH"), "AUTO_CONFIRMER=acme-pipeline-AutoApproveRole-X1")
		out, err := cmd.CombinedOutput()
		if (err == nil) != c.ok {
			t.Errorf("%s by %s: accepted %v, want %v\n%s", c.status, c.by, err == nil, c.ok, out)
		}
	}
}
