package test

import (
	"slices"
	"strings"
	"testing"

	"github.com/renderenv/renderenv/internal/cfn"
)

// TestAuditorsCanReadTheTrailAndChangeNothing: somebody must be able to
// read the central trail (an auditor, the security team), and that role
// must not be able to alter it (ISE 8.1, 9.4). Only people.auditors, from
// the admin ranges, may assume it.
func TestAuditorsCanReadTheTrailAndChangeNothing(t *testing.T) {
	s := synth(t, acmeEstate)
	stack := s.names().LoggingStack()
	name := s.names().AuditReader()
	var role *cfn.Resource
	for _, r := range s.In(stack, "AWS::IAM::Role") {
		if r.Name() == name {
			role = r
		}
	}
	if role == nil {
		t.Fatalf("%s has no role %s", stack, name)
	}
	for _, p := range s.Assembly.PoliciesOf(role) {
		if p.Kind != cfn.Trust {
			continue
		}
		var want []string
		for _, person := range s.Manifests.Studio.Auditors() {
			want = append(want, person.PrincipalArns(s.Manifests.Studio.ManagementAccount)...)
		}
		for _, st := range p.Statements {
			got := st.Values(func(op string) bool { return op == "ArnLike" || op == "ArnEquals" }, "aws:PrincipalArn")
			if !slices.Equal(got, want) {
				t.Errorf("%s is assumed by %v, want only people.auditors %v: %s", name, got, want, st.Label())
			}
			if ip := st.Values(func(op string) bool { return op == "IpAddress" }, "aws:SourceIp"); len(ip) == 0 {
				t.Errorf("%s is assumed from anywhere: %s", name, st.Label())
			}
		}
	}
	var reads, decrypts bool
	for _, p := range s.Assembly.RolePolicies(role) {
		for _, st := range p.Statements {
			if !st.Allow() {
				continue
			}
			for _, a := range st.Action {
				verb := a[strings.Index(a, ":")+1:]
				switch {
				case a == "kms:Decrypt":
					decrypts = true
				case a == "s3:GetObject":
					reads = true
				case strings.HasPrefix(verb, "Get"), strings.HasPrefix(verb, "List"), strings.HasPrefix(verb, "Describe"),
					strings.HasPrefix(verb, "Filter"), a == "logs:StartQuery":
				default:
					t.Errorf("%s may %s (%s %s): an auditor only reads", name, a, p.Resource, st.Label())
				}
			}
		}
	}
	if !reads || !decrypts {
		t.Errorf("%s: reads log files %v, decrypts them %v; want both", name, reads, decrypts)
	}
	// The logging key admits it, through S3 only.
	arn := "arn:aws:iam::" + s.Manifests.Studio.LogArchive() + ":role/" + name
	var admitted bool
	for _, k := range s.In(stack, "AWS::KMS::Key") {
		for _, p := range s.Assembly.PoliciesOf(k) {
			if p.Kind != cfn.Key {
				continue
			}
			for _, st := range p.Statements {
				if !st.Allow() || !slices.Contains(slices.Concat(st.Values(nil, "aws:PrincipalArn"), st.Principal.All()), arn) {
					continue
				}
				via := st.Values(nil, "kms:ViaService")
				if len(via) != 1 || via[0] != "s3."+s.Manifests.Studio.Region+".amazonaws.com" || !slices.Equal(st.Action, []string{"kms:Decrypt"}) {
					t.Errorf("%s: statement %s admits the audit reader as %v via %v, want kms:Decrypt through S3 only", k, st.Label(), st.Action, via)
					continue
				}
				admitted = true
			}
		}
	}
	if !admitted {
		t.Errorf("no key of %s lets %s decrypt the trail's log files", stack, name)
	}
}
