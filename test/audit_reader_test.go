package test

import (
	"strings"
	"testing"
)

// TestAuditorsCanReadTheTrailAndChangeNothing: somebody must be able to
// read the central trail (an auditor, the security team), and that role
// must not be able to alter it (ISE 8.1, 9.4).
func TestAuditorsCanReadTheTrailAndChangeNothing(t *testing.T) {
	s := synth(t, acmeEstate)
	stack := s.studio() + "-logging"
	name := s.studio() + "-audit-reader"
	var role Resource
	for _, r := range s.Templates.In(stack, "AWS::IAM::Role") {
		if r.Props["RoleName"] == name {
			role = r
		}
	}
	if role.ID == "" {
		t.Fatalf("%s has no role %s", stack, name)
	}
	trust := statements(role.Props["AssumeRolePolicyDocument"])
	for _, st := range trust {
		if _, mfa := st.conditionValues("aws:MultiFactorAuthPresent"); len(mfa) == 0 || strs(mfa[0])[0] != "true" {
			t.Errorf("%s is assumed without MFA: %v", name, st.body)
		}
	}
	granted := rolePolicies(s.Templates)[stack+"/"+role.ID]
	var reads, decrypts bool
	for _, st := range granted {
		if st.effect != "Allow" {
			continue
		}
		for _, a := range st.actions() {
			verb := a[strings.Index(a, ":")+1:]
			switch {
			case a == "kms:Decrypt":
				decrypts = true
			case a == "s3:GetObject":
				reads = true
			case strings.HasPrefix(verb, "Get"), strings.HasPrefix(verb, "List"), strings.HasPrefix(verb, "Describe"),
				strings.HasPrefix(verb, "Filter"), a == "logs:StartQuery":
			default:
				t.Errorf("%s may %s (%s): an auditor only reads", name, a, st.sid)
			}
		}
	}
	if !reads || !decrypts {
		t.Errorf("%s: reads log files %v, decrypts them %v; want both", name, reads, decrypts)
	}
	// The logging key admits it, through S3 only.
	var admitted bool
	for _, k := range s.Templates.In(stack, "AWS::KMS::Key") {
		for _, st := range statements(k.Props["KeyPolicy"]) {
			if st.effect != "Allow" || !contains(st.principalPatterns(), "arn:aws:iam::"+s.Manifests.Studio.LogArchive()+":role/"+name) {
				continue
			}
			_, via := st.conditionValues("kms:ViaService")
			if len(via) != 1 || strs(via[0])[0] != "s3."+s.Manifests.Studio.Region+".amazonaws.com" || !contains(st.actions(), "kms:Decrypt") || len(st.actions()) != 1 {
				t.Errorf("%s: statement %s admits the audit reader as %v via %v, want kms:Decrypt through S3 only", k, st.sid, st.actions(), via)
				continue
			}
			admitted = true
		}
	}
	if !admitted {
		t.Errorf("no key of %s lets %s decrypt the trail's log files", stack, name)
	}
}
