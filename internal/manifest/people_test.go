package manifest

import (
	"slices"
	"testing"
)

// A production's own list wins over the studio's, the studio's over the
// default, and placeholders take the production's and studio's names.
func TestCrewOfResolvesOwnThenStudioThenDefault(t *testing.T) {
	s := &Studio{Studio: "acme", People: StudioPeople{
		KeyAdmins: []string{"sso:{studio}-{production}-Keys", "arn:aws:iam::111111111111:role/key-custodian"},
	}}
	p := &Production{Name: "nightfall", People: People{DataOperators: []string{"sso:NightfallWrangler"}}}
	c := s.CrewOf(p)
	str := func(ps []Person) []string {
		var out []string
		for _, x := range ps {
			out = append(out, x.String())
		}
		return out
	}
	for _, tc := range []struct {
		field     string
		got, want []string
	}{
		{"keyAdmins (studio)", str(c.KeyAdmins), []string{"sso:acme-nightfall-Keys", "arn:aws:iam::111111111111:role/key-custodian"}},
		{"dataOperators (own)", str(c.DataOperators), []string{"sso:NightfallWrangler"}},
		{"logReaders (default)", str(c.LogReaders), []string{"sso:nightfall-Logs"}},
		{"auditors (default)", str(s.Auditors()), []string{"sso:acme-Audit"}},
		{"poolKeyAdmins (default)", str(s.PoolKeyAdmins()), []string{"sso:acme-PoolKeys"}},
	} {
		if !slices.Equal(tc.got, tc.want) {
			t.Errorf("%s: got %q, want %q", tc.field, tc.got, tc.want)
		}
	}
}

// A permission set matches its Identity Center role with or without the
// instance's region in the path, and nothing longer; a role matches itself.
func TestPrincipalArns(t *testing.T) {
	sso := Person{PermissionSet: "nightfall-Data"}.PrincipalArns("111111111111")
	want := []string{
		"arn:aws:iam::111111111111:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_nightfall-Data_????????????????",
		"arn:aws:iam::111111111111:role/aws-reserved/sso.amazonaws.com/*/AWSReservedSSO_nightfall-Data_????????????????",
	}
	if !slices.Equal(sso, want) {
		t.Errorf("sso: got %q, want %q", sso, want)
	}
	if !(Person{PermissionSet: "x"}).SSO() || (Person{RoleArn: "arn:aws:iam::111111111111:role/r"}).SSO() {
		t.Error("SSO() tells permission sets from roles")
	}
	role := Person{RoleArn: "arn:aws:iam::111111111111:role/ops/key-custodian"}.PrincipalArns("111111111111")
	if !slices.Equal(role, []string{"arn:aws:iam::111111111111:role/ops/key-custodian"}) {
		t.Errorf("role: got %q", role)
	}
}

// Without pipeline.approvers nobody but one permission set, named after
// the studio, may release a pipeline change.
func TestPipelineApproversDefaultToOnePermissionSet(t *testing.T) {
	s := &Studio{Studio: "acme"}
	if got := s.PipelineApprovers(); len(got) != 1 || got[0].String() != "sso:acme-PipelineApprovers" {
		t.Errorf("default approvers %v", got)
	}
	s.Pipeline.Approvers = []string{"sso:{studio}-Release", "arn:aws:iam::111111111111:role/Approver"}
	got := s.PipelineApprovers()
	if len(got) != 2 || got[0].PermissionSet != "acme-Release" || got[1].RoleArn != "arn:aws:iam::111111111111:role/Approver" {
		t.Errorf("approvers %v", got)
	}
}
