package test

import (
	"bytes"
	"slices"
	"strings"
	"testing"

	"github.com/renderenv/renderenv/constructs/storage"
	"github.com/renderenv/renderenv/internal/cfn"
	"github.com/renderenv/renderenv/internal/evidence"
	"github.com/renderenv/renderenv/internal/fixtures"
	"github.com/renderenv/renderenv/internal/names"
	"github.com/renderenv/renderenv/internal/rules"
)

// acmeClosing is the acme fixture with nightfall (Tier 1, its own VPC and
// keys) closing and brightside (Tier 3, pooled VPC and keys) closed.
var acmeClosing = estateSpec{
	name: "acme-nightfall-closing",
	nag:  true,
	files: func() map[string][]byte {
		files := fixtures.AcmeFiles()
		for name, status := range map[string]string{"nightfall.yaml": "closing", "brightside.yaml": "closed"} {
			files[name] = append(bytes.TrimRight(files[name], "\n"), []byte("\nstatus: "+status+"\n")...)
		}
		return files
	},
}

// TestClosingProductionKeepsDataButNoCompute: a closing production loses
// its launch templates and launcher role (ISE 6.2), refuses new objects in
// its asset bucket, and keeps the bucket and every key retained (ISE 9.1,
// 10.9); the rule set finds nothing in the estate.
func TestClosingProductionKeepsDataButNoCompute(t *testing.T) {
	s := synth(t, acmeClosing)
	n := s.names()
	stack := n.ProductionStack("nightfall")
	if !s.Has(stack) {
		t.Fatalf("no stack %s (built %v)", stack, s.Stacks())
	}
	if lts := s.In(stack, "AWS::EC2::LaunchTemplate"); len(lts) != 0 {
		t.Errorf("closing %s still has launch templates %v", stack, lts)
	}
	if ips := s.In(stack, "AWS::IAM::InstanceProfile"); len(ips) != 0 {
		t.Errorf("closing %s still has instance profiles %v", stack, ips)
	}
	launcher := names.Role(stack, names.Launcher)
	for _, r := range s.Assembly.Resources("AWS::IAM::Role") {
		if r.Stack.String(r.Prop("RoleName")) == launcher {
			t.Errorf("%s: the launcher role %s of the closing production remains", r, launcher)
		}
	}
	// The other productions keep their compute: closing is per production.
	if lts := s.In(n.ProductionStack("harbour"), "AWS::EC2::LaunchTemplate"); len(lts) == 0 {
		t.Errorf("harbour, which is active, lost its launch templates")
	}

	bucketName := s.Manifests.Studio.Studio + "-nightfall-assets-"
	var bucket string
	for _, b := range s.In(stack, "AWS::S3::Bucket") {
		if strings.HasPrefix(b.Stack.String(b.Prop("BucketName")), bucketName) {
			bucket = b.ID
			if b.DeletionPolicy != "Retain" {
				t.Errorf("%s: asset bucket DeletionPolicy %q, want Retain", b, b.DeletionPolicy)
			}
		}
	}
	if bucket == "" {
		t.Fatalf("%s has no asset bucket", stack)
	}
	denied := false
	for _, p := range s.Assembly.Policies() {
		if p.Kind != cfn.Bucket || p.Resource.Stack.Name != stack || !slices.ContainsFunc(p.Targets, func(r *cfn.Resource) bool { return r.ID == bucket }) {
			continue
		}
		for _, st := range p.Statements {
			if st.Sid == storage.ClosingSid && st.Deny() && st.Covers("s3:PutObject") && st.Principal != nil && st.Principal.Wildcard && len(st.Condition) == 0 {
				denied = true
			}
		}
	}
	if !denied {
		t.Errorf("the asset bucket policy of %s has no unconditional %s Deny of s3:PutObject for everyone", stack, storage.ClosingSid)
	}
	keys := s.In(stack, "AWS::KMS::Key")
	if len(keys) == 0 {
		t.Errorf("closing %s has no keys", stack)
	}
	for _, k := range keys {
		if k.DeletionPolicy != "Retain" {
			t.Errorf("%s: key DeletionPolicy %q, want Retain", k, k.DeletionPolicy)
		}
	}
	for _, f := range rules.Run(s.Assembly) {
		t.Error(f)
	}
	for _, f := range s.Findings {
		t.Errorf("cdk-nag: %v", f)
	}
}

// TestClosingProductionEvidenceFailsNoNewCheck: the evidence pack of a
// closing production says its compute checks are not applicable; closing
// makes no check fail and no control missing that the same production's
// pack does not already have while active.
func TestClosingProductionEvidenceFailsNoNewCheck(t *testing.T) {
	s, active := synth(t, acmeClosing), synth(t, acmeEstate)
	problems := func(s *Synthesized, name string) (fails, missing map[string]string) {
		pack, err := evidence.Report(s.Assembly, s.Manifests, name)
		if err != nil {
			t.Fatal(err)
		}
		fails, missing = map[string]string{}, map[string]string{}
		for _, c := range pack.Controls {
			for _, ch := range c.Checks {
				if ch.Outcome == evidence.Fail {
					fails["ISE "+c.ID+": "+ch.Check] = ch.Detail
				}
			}
			if c.Status == evidence.Missing {
				missing["ISE "+c.ID] = strings.Join(c.Problems(), "; ")
			}
		}
		return fails, missing
	}
	for _, name := range []string{"nightfall", "brightside"} {
		fails, missing := problems(s, name)
		wasFailing, wasMissing := problems(active, name)
		for k, detail := range fails {
			if _, ok := wasFailing[k]; !ok {
				t.Errorf("%s closing: %s fails: %s", name, k, detail)
			}
		}
		for k, detail := range missing {
			if _, ok := wasMissing[k]; !ok {
				t.Errorf("%s closing: %s is missing: %s", name, k, detail)
			}
		}
	}
}

// TestClosingProductionIsNoLaunchTarget: the access matrix of the estate
// with nightfall closing names no launch template or launcher of it, and
// every decision is still the expected one.
func TestClosingProductionIsNoLaunchTarget(t *testing.T) {
	s := synth(t, acmeClosing)
	m := matrixOf(t, s, nil, "nightfall", "harbour", "brightside", "lighthouse")
	launches := 0
	for _, r := range m.Rows {
		if r.Target.Kind != "launch-template" && !strings.HasSuffix(r.Target.Label, "-"+names.Launcher) {
			continue
		}
		if slices.Contains(r.Target.Owners, "nightfall") || slices.Contains(r.Target.Owners, "brightside") {
			t.Errorf("a closing production is still a launch target: %s", r)
		}
		launches++
	}
	if launches == 0 {
		t.Error("the matrix holds no launch request at all: it proves nothing about nightfall's")
	}
	checkMatrix(t, m, make([]int, len(knownOpen)))
}
