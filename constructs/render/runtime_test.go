package render_test

import (
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"

	"github.com/renderenv/renderenv/internal/cdktest"
	"github.com/renderenv/renderenv/internal/names"
)

// Checks of what a render node and the launcher need at run time: without
// each of these rights, sessions or launches fail after a clean deploy.

// allows reports whether some statement allows action on a resource whose
// text contains resource (any resource when resource is "").
func allows(statements []cdktest.Statement, action, resource string) bool {
	for _, s := range statements {
		if s.Effect() != "Allow" {
			continue
		}
		var act bool
		for _, a := range s.Actions() {
			act = act || a == action || (strings.HasSuffix(a, "*") && strings.HasPrefix(action, strings.TrimSuffix(a, "*")))
		}
		if !act {
			continue
		}
		for _, r := range s.Resources() {
			if resource == "" || r == "*" || strings.Contains(r, resource) {
				return true
			}
		}
	}
	return false
}

func renderRolePolicies(t testing.TB, tpl assertions.Template) (inline, boundary []cdktest.Statement) {
	t.Helper()
	role := cdktest.One(t, tpl, "AWS::IAM::Role", map[string]any{"Properties": map[string]any{"RoleName": roleName}})
	policies, _ := role.Properties["Policies"].([]any)
	for _, p := range policies {
		m, _ := p.(map[string]any)
		inline = append(inline, cdktest.Statements(m["PolicyDocument"])...)
	}
	b := cdktest.One(t, tpl, "AWS::IAM::ManagedPolicy", nil)
	return inline, cdktest.Statements(b.Properties["PolicyDocument"])
}

// TestRenderRoleMayCheckTheSessionLogGroupIsEncrypted: with
// cloudWatchEncryptionEnabled the SSM Agent looks the session log group up
// (logs:DescribeLogGroups) and refuses to start a session when it cannot
// see that the group is KMS-encrypted.
func TestRenderRoleMayCheckTheSessionLogGroupIsEncrypted(t *testing.T) {
	tpl := templates(t).Fleet
	inline, boundary := renderRolePolicies(t, tpl)
	if !allows(inline, "logs:DescribeLogGroups", "") {
		t.Errorf("the render role's inline policy does not allow logs:DescribeLogGroups")
	}
	if !allows(boundary, "logs:DescribeLogGroups", "") {
		t.Errorf("the render boundary does not allow logs:DescribeLogGroups")
	}
}

// TestLoggingKeyLetsRenderNodesDecryptSessionData: with kmsKeyId in the
// session preferences the SSM Agent on the node calls kms:Decrypt on the
// logging key for the session handshake. The render role's IAM policy
// allows it; the key policy must name the role too, since it delegates only
// administration to the account.
func TestLoggingKeyLetsRenderNodesDecryptSessionData(t *testing.T) {
	tpl := templates(t).Fleet
	logging := cdktest.One(t, tpl, "AWS::KMS::Key", map[string]any{"Properties": map[string]any{
		"Description": assertions.Match_StringLikeRegexp(&[]string{" logging key: "}[0]),
	}})
	renderArn := names.RoleArn(account, roleName)
	var ok bool
	for _, s := range cdktest.Statements(logging.Properties["KeyPolicy"]) {
		if s.Effect() != "Allow" || !s.Has("kms:Decrypt") {
			continue
		}
		arns, _ := s.Condition("ArnLike", "aws:PrincipalArn")
		for _, p := range append(arns, s.Principals("AWS")...) {
			if p == renderArn {
				ok = true
			}
		}
	}
	if !ok {
		t.Errorf("no statement of the logging key %s allows kms:Decrypt to %s", logging.ID, renderArn)
	}
}

// TestLauncherMayUseTheVolumeKeysThroughEc2: launching with EBS volumes
// encrypted by a customer-managed key needs the caller to hold
// kms:CreateGrant, kms:GenerateDataKeyWithoutPlaintext, kms:Decrypt,
// kms:DescribeKey and kms:ReEncrypt* on the key. The key policies delegate
// that to IAM (AllowEbs, to the account via EC2), so the launcher's own
// policy must grant it.
func TestLauncherMayUseTheVolumeKeysThroughEc2(t *testing.T) {
	tpl := templates(t).Fleet
	_, statements := launcher(t, tpl)
	root, asset := key(t, tpl, "root-volume"), key(t, tpl, "content-asset")
	for _, k := range []string{root, asset} {
		for _, a := range []string{"kms:CreateGrant", "kms:GenerateDataKeyWithoutPlaintext", "kms:Decrypt", "kms:DescribeKey", "kms:ReEncryptFrom"} {
			if !allows(statements, a, "${"+k+".Arn}") {
				t.Errorf("the launcher may not %s on %s", a, k)
			}
		}
	}
}
