package test

import (
	"slices"
	"strings"
	"testing"

	"github.com/renderenv/renderenv/internal/access"
	"github.com/renderenv/renderenv/internal/cfn"
	"github.com/renderenv/renderenv/internal/evidence"
)

// The evidence pack's access claims flip with the access matrix: for each
// of the six claims that cite it (1.3, 5.1, 7.1, 9.2, 9.3, 10.1), one edit
// of the acme templates that breaks exactly the claim's property gives the
// matrix of the edited templates (decided by the pinned evaluator) new
// unexpected rows, and the pack built with that matrix fails the claim's
// access check, naming them. The matrix of the unedited templates does not
// fail the check for those rows (it may fail it for today's known-open
// ones: 7.1 and 10.1 do, honestly). Only nightfall and harbour are
// evaluated; the pack reads the unedited templates, so what flips is the
// access check alone.
func TestEvidenceAccessClaimsFlipOnAFailingRow(t *testing.T) {
	s := synth(t, acmeEstate)
	studio := s.studio()
	stack := studio + "-nightfall"
	ix, err := evidence.NewIndex(s.Assembly, s.Manifests)
	if err != nil {
		t.Fatal(err)
	}
	nightfall := s.Assembly.Stack(stack)
	var keyID, bucket, bucketPolicyID string
	for _, r := range nightfall.OfType("AWS::KMS::Alias") {
		if strings.HasSuffix(r.Name(), "/content-asset") {
			keyID = r.Resolve("TargetKeyId").ID
		}
	}
	roles := map[string]*cfn.Resource{}
	for _, r := range nightfall.OfType("AWS::IAM::Role") {
		roles[strings.TrimPrefix(r.Name(), stack+"-")] = r
	}
	for _, r := range nightfall.OfType("AWS::S3::Bucket") {
		if strings.Contains(r.Name(), "-assets-") {
			bucket = r.Name()
		}
	}
	for _, p := range s.Assembly.Policies() {
		if p.Kind == cfn.Bucket && len(p.Targets) == 1 && p.Targets[0].Name() == bucket {
			bucketPolicyID = p.Resource.ID
		}
	}
	// identityPolicy is the AWS::IAM::Policy attached to the named role.
	identityPolicy := func(role string) *cfn.Resource {
		for _, p := range s.Assembly.Policies() {
			if p.Kind == cfn.Identity && p.Resource.Type == "AWS::IAM::Policy" && slices.ContainsFunc(p.Roles, func(r *cfn.Resource) bool { return r.Name() == role }) {
				return p.Resource
			}
		}
		t.Fatalf("no AWS::IAM::Policy is attached to %s", role)
		return nil
	}
	operator, harbourOperator := identityPolicy(stack+"-data-operator"), identityPolicy(studio+"-harbour-data-operator")
	if keyID == "" || bucketPolicyID == "" || roles["key-admin"] == nil || roles["launcher"] == nil {
		t.Fatalf("%s lacks a content-asset key, an asset bucket policy, a key-admin or a launcher role", stack)
	}
	roleArn := func(r *cfn.Resource) string { return r.Stack.String(map[string]any{"Fn::GetAtt": []any{r.ID, "Arn"}}) }
	harbourOperatorArn := ""
	for _, r := range s.Assembly.Stack(studio + "-harbour").OfType("AWS::IAM::Role") {
		if r.Name() == studio+"-harbour-data-operator" {
			harbourOperatorArn = roleArn(r)
		}
	}

	document := func(tpl map[string]any, id, property string) map[string]any {
		return cfn.AsMap(cfn.AsMap(cfn.AsMap(cfn.AsMap(tpl["Resources"])[id])["Properties"])[property])
	}
	add := func(doc map[string]any, st map[string]any) {
		doc["Statement"] = append(cfn.AsList(doc["Statement"]), st)
	}

	pack := func(t *testing.T, m *access.Matrix) evidence.Pack {
		t.Helper()
		ix.SetAccess(m.EvidenceRows())
		defer ix.SetAccess(nil)
		p, err := ix.Report("nightfall")
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	accessCheck := func(t *testing.T, p evidence.Pack, id string) evidence.CheckResult {
		t.Helper()
		c, _ := p.Control(id)
		for _, r := range c.Checks {
			if strings.HasPrefix(r.Check, "the access matrix ") {
				return r
			}
		}
		t.Fatalf("control %s has no access check", id)
		return evidence.CheckResult{}
	}
	base := matrixOf(t, s, nil, "nightfall", "harbour")
	baseRows := map[string]evidence.AccessRow{}
	for _, r := range base.EvidenceRows()["nightfall"].Rows {
		baseRows[r.ID] = r
	}
	basePack := pack(t, base)

	// Today's known-open rows (knownOpen) on nightfall's resources are
	// failures of the pack, not hidden: an access check lists each.
	known := 0
	for _, r := range base.For("nightfall") {
		if !r.Unexpected() || knownIndex(r) < 0 {
			continue
		}
		known++
		row := baseRows[r.Request.ID]
		listed := false
		for _, c := range basePack.Controls {
			for _, ch := range c.Checks {
				listed = listed || ch.Outcome == evidence.Fail && strings.Contains(ch.Detail, row.String())
			}
		}
		if !listed {
			t.Errorf("the known-open %s fails no access check of the pack", row)
		}
	}
	t.Logf("%d known-open rows on nightfall's resources, each a failure of an access check", known)

	for _, tc := range []struct {
		control, name string
		edit          func(name string, tpl map[string]any)
	}{
		{"1.3", "the key admin's trust loses its aws:SourceIp condition", func(name string, tpl map[string]any) {
			if name != stack {
				return
			}
			for _, st := range cfn.AsList(document(tpl, roles["key-admin"].ID, "AssumeRolePolicyDocument")["Statement"]) {
				delete(cfn.AsMap(cfn.AsMap(st)["Condition"]), "IpAddress")
			}
		}},
		// A grant across accounts takes both sides: the bucket policy
		// treats harbour's data operator as nightfall's (its exemptions
		// and an allow), and harbour's policy names nightfall's bucket.
		{"5.1", "the asset bucket grants s3:GetObject to harbour's data operator", func(name string, tpl map[string]any) {
			switch name {
			case stack:
				doc := document(tpl, bucketPolicyID, "PolicyDocument")
				for _, st := range cfn.AsList(doc["Statement"]) {
					for _, block := range cfn.AsMap(cfn.AsMap(st)["Condition"]) {
						b := cfn.AsMap(block)
						if arns := cfn.AsList(b["aws:PrincipalArn"]); slices.Contains(arns, any(roleArn(roles["data-operator"]))) {
							b["aws:PrincipalArn"] = append(arns, harbourOperatorArn)
						}
					}
				}
				add(doc, map[string]any{"Sid": "InjectedHarbourRead", "Effect": "Allow", "Principal": map[string]any{"AWS": harbourOperatorArn},
					"Action": "s3:GetObject", "Resource": "arn:aws:s3:::" + bucket + "/*"})
			case studio + "-harbour":
				add(document(tpl, harbourOperator.ID, "PolicyDocument"), map[string]any{"Sid": "InjectedNightfallRead", "Effect": "Allow",
					"Action": "s3:GetObject", "Resource": "arn:aws:s3:::" + bucket + "/*"})
			}
		}},
		{"7.1", "the launcher's trust admits Principal AWS *", func(name string, tpl map[string]any) {
			if name == stack {
				add(document(tpl, roles["launcher"].ID, "AssumeRolePolicyDocument"), map[string]any{"Sid": "InjectedWildcard", "Effect": "Allow",
					"Principal": map[string]any{"AWS": "*"}, "Action": "sts:AssumeRole"})
			}
		}},
		{"9.2", "the content-asset key policy grants kms:* to Principal AWS *", func(name string, tpl map[string]any) {
			if name == stack {
				add(document(tpl, keyID, "KeyPolicy"), map[string]any{"Sid": "InjectedWildcard", "Effect": "Allow",
					"Principal": map[string]any{"AWS": "*"}, "Action": "kms:*", "Resource": "*"})
			}
		}},
		{"9.3", "the content-asset key policy grants kms:Decrypt to the key admin", func(name string, tpl map[string]any) {
			if name == stack {
				add(document(tpl, keyID, "KeyPolicy"), map[string]any{"Sid": "InjectedAdminUse", "Effect": "Allow",
					"Principal": map[string]any{"AWS": roleArn(roles["key-admin"])}, "Action": "kms:Decrypt", "Resource": "*"})
			}
		}},
		// The matrix decides each principal's own requests and chains no
		// role assumptions, so a wider launcher trust shows under 7.1; what
		// 10.1 proves is who may run the templates themselves.
		{"10.1", "the data operator may run instances", func(name string, tpl map[string]any) {
			if name == stack {
				add(document(tpl, operator.ID, "PolicyDocument"), map[string]any{"Sid": "InjectedLaunch", "Effect": "Allow",
					"Action": "ec2:RunInstances", "Resource": "*"})
			}
		}},
	} {
		t.Run(tc.control, func(t *testing.T) {
			m := matrixOf(t, s, tc.edit, "nightfall", "harbour")
			var flagged []evidence.AccessRow
			for _, r := range m.EvidenceRows()["nightfall"].Rows {
				if b, ok := baseRows[r.ID]; ok && isUnexpected(r) && !isUnexpected(b) {
					flagged = append(flagged, r)
				}
			}
			if len(flagged) == 0 {
				t.Fatalf("%s: the edit gives the matrix no new unexpected decision on nightfall's resources", tc.name)
			}
			got := accessCheck(t, pack(t, m), tc.control)
			if got.Outcome != evidence.Fail {
				t.Fatalf("%s: %s %q = %s: %s", tc.name, tc.control, got.Check, got.Outcome, got.Detail)
			}
			named := 0
			for _, r := range flagged {
				if !slices.Contains(got.Requests, r.ID) {
					continue
				}
				named++
				if !strings.Contains(got.Detail, r.String()) {
					t.Errorf("%s: %s cites %s but its detail does not describe it: %s", tc.name, tc.control, r.ID, got.Detail)
				}
				if b := accessCheck(t, basePack, tc.control); strings.Contains(b.Detail, described(r)) {
					t.Errorf("%s: without the edit, %s already fails for %s: %s", tc.name, tc.control, r.ID, b.Detail)
				}
			}
			if named == 0 {
				t.Errorf("%s: %s fails without naming any of the %d rows the edit made unexpected, e.g. %s: %s", tc.name, tc.control, len(flagged), flagged[0], got.Detail)
			}
			t.Logf("%s: %s fails on %d new unexpected rows, e.g. %s", tc.name, tc.control, named, flagged[0])
		})
	}
}

// described is how a check's detail begins to describe a row, whatever its
// decision.
func described(r evidence.AccessRow) string {
	return r.Principal + " (" + r.Kind + ") " + r.Action + " on " + r.Target + ", " + r.Via + ":"
}

// isUnexpected: the decision is not the expected one.
func isUnexpected(r evidence.AccessRow) bool {
	return r.Decision == "Error" || (r.Decision == "Allowed") != (r.Expect == string(access.Allow))
}
