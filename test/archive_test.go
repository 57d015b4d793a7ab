package test

import (
	"encoding/json"
	"testing"

	"github.com/renderenv/renderenv/internal/names"
)

// TestLogsReachTheLogArchiveWhereThereIsOne: what RE-AUD-006 and
// RE-RND-009 cannot say, as they see only the assembly: that a studio whose
// manifests name a log-archive account apart from the management account
// copies every VPC's flow logs and each production's sessions there, each
// production under its own prefix, and that a studio without one copies
// nothing (the evidence pack says so instead).
func TestLogsReachTheLogArchiveWhereThereIsOne(t *testing.T) {
	checkEach(t, append([]estateSpec{acmeEstate}, studioShapes()...), checkLogsReachTheLogArchiveWhereThereIsOne)
}

func checkLogsReachTheLogArchiveWhereThereIsOne(s *Synthesized, logf func(string, ...any)) (f findings) {
	st := &s.Manifests.Studio
	bucket := s.names().LogArchiveBucket()
	archive := st.LogArchive() != st.ManagementAccount
	copied := map[string]bool{} // VPC, as stack/LogicalId
	for _, fl := range s.Assembly.Resources("AWS::EC2::FlowLog") {
		if fl.Stack.String(fl.Properties["LogDestinationType"]) != "s3" {
			continue
		}
		dest := fl.Stack.String(fl.Properties["LogDestination"])
		switch {
		case !archive:
			f.add("%s copies flow logs to %s, but the studio has no log-archive account of its own", fl, dest)
		case dest != "arn:aws:s3:::"+bucket+"/"+names.FlowLogPrefix:
			f.add("%s copies flow logs to %s, want arn:aws:s3:::%s/%s", fl, dest, bucket, names.FlowLogPrefix)
		default:
			if vpc := fl.Resolve("ResourceId"); vpc != nil {
				copied[vpc.String()] = true
			}
		}
	}
	if archive {
		for _, vpc := range s.Assembly.Resources("AWS::EC2::VPC") {
			if !copied[vpc.String()] {
				f.add("%s copies no flow logs to the log-archive bucket %s", vpc, bucket)
			}
		}
	}
	for _, r := range s.Manifests.Resolved() {
		stack := s.Assembly.Stack(s.names().ProductionStack(r.Name))
		if stack == nil {
			continue
		}
		sessions := 0
		for _, d := range stack.OfType("AWS::SSM::Document") {
			if d.Stack.String(d.Properties["DocumentType"]) != "Session" {
				continue
			}
			sessions++
			to, prefix := d.Stack.String(d.Prop("Content.inputs.s3BucketName")), d.Stack.String(d.Prop("Content.inputs.s3KeyPrefix"))
			want := names.SessionLogPrefix(r.Account, r.Name)
			switch {
			case !archive && to != "":
				f.add("%s uploads sessions to %s, but the studio has no log-archive account of its own", d, to)
			case archive && (to != bucket || prefix != want):
				f.add("%s uploads sessions to %s/%s, want %s/%s", d, to, prefix, bucket, want)
			}
		}
		if sessions == 0 {
			f.add("%s has no Session Manager document", stack.Name)
		}
	}
	return f
}

// maxBucketPolicyBytes is S3's limit on a bucket policy.
const maxBucketPolicyBytes = 20 * 1024

// TestLogArchivePoliciesDoNotGrowWithProductions: the log-archive bucket
// and its key admit writers by organization (or account) and key each to
// its own prefix by policy variables, so a studio of 30 productions has
// the same policies as one of 6 in the same accounts, and every shape's
// bucket policy stays under S3's 20 KB limit.
func TestLogArchivePoliciesDoNotGrowWithProductions(t *testing.T) {
	policies := func(s *Synthesized) map[string]string {
		out := map[string]string{}
		stack := s.Assembly.Stack(s.names().LoggingStack())
		if stack == nil {
			t.Fatalf("%s has no logging stack", s.Name)
		}
		for _, r := range stack.OfType("AWS::S3::BucketPolicy", "AWS::KMS::Key") {
			doc := r.Properties["PolicyDocument"]
			if r.Type == "AWS::KMS::Key" {
				doc = r.Properties["KeyPolicy"]
			}
			b, err := json.Marshal(doc)
			if err != nil {
				t.Fatal(err)
			}
			out[r.ID] = string(b)
		}
		return out
	}
	small, large := synth(t, generatedEstate(6, 3)), synth(t, generated)
	got, want := policies(large), policies(small)
	if len(want) == 0 {
		t.Fatal("the logging stack has no bucket or key policy")
	}
	for id, doc := range want {
		if got[id] != doc {
			t.Errorf("%s's policy differs between %s and %s:\n%s\n%s", id, small.Name, large.Name, doc, got[id])
		}
	}
	eachEstate(t, append([]estateSpec{acmeEstate, generated}, studioShapes()...), func(t *testing.T, s *Synthesized) {
		for id, doc := range policies(s) {
			if len(doc) >= maxBucketPolicyBytes/2 {
				t.Errorf("%s's policy is %d bytes, more than half of the %d S3 allows a bucket policy", id, len(doc), maxBucketPolicyBytes)
			}
		}
	})
}
