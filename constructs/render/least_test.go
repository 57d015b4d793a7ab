package render_test

import (
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"

	"github.com/renderenv/renderenv/constructs/render"
	"github.com/renderenv/renderenv/internal/cdktest"
)

// logGroup is the logical id of the fleet's log group named name.
func logGroup(t testing.TB, tpl assertions.Template, name string) string {
	t.Helper()
	return cdktest.One(t, tpl, "AWS::Logs::LogGroup", map[string]any{"Properties": map[string]any{"LogGroupName": name}}).ID
}

// ownResources are the only resources a render node's own statements may
// name: its asset bucket and objects, its keys, its two log groups and
// their streams, and the account's log groups for DescribeLogGroups alone.
func ownResources(t testing.TB, tpl assertions.Template) map[string]bool {
	render, sessions := logGroup(t, tpl, "/"+prefix+"/render"), logGroup(t, tpl, "/"+prefix+"/sessions")
	return map[string]bool{
		bucketArn: true, bucketArn + "/*": true,
		"${" + key(t, tpl, "content-asset") + ".Arn}": true,
		"${" + key(t, tpl, "logging") + ".Arn}":       true,
		"${" + render + ".Arn}":                       true, "${" + render + ".Arn}:*": true,
		"${" + sessions + ".Arn}": true, "${" + sessions + ".Arn}:*": true,
		// Its own prefix of the log-archive bucket, and the bucket itself
		// for its encryption settings.
		"arn:aws:s3:::" + archiveBucket + "/sessions/" + account + "/nightfall/*": true,
		"arn:aws:s3:::" + archiveBucket:                                           true,
		// The log-archive account's logging key, by alias, through S3.
		"arn:aws:kms:" + region + ":" + logArchive + ":key/*": true,
	}
}

// TestRenderRoleReachesOnlyItsOwnBucketKeysAndLogs: apart from Session
// Manager's managed policy, a render node may touch its production's asset
// bucket, the asset key through S3 only, the logging key for sessions and
// its own log groups, and nothing else (ISE 7.1).
func TestRenderRoleReachesOnlyItsOwnBucketKeysAndLogs(t *testing.T) {
	tpl := templates(t).Fleet
	inline, _ := renderRolePolicies(t, tpl)
	if len(inline) == 0 {
		t.Fatal("the render role has no inline statements")
	}
	own := ownResources(t, tpl)
	asset := "${" + key(t, tpl, "content-asset") + ".Arn}"
	for _, s := range inline {
		if s.Effect() != "Allow" {
			continue
		}
		for _, a := range s.Actions() {
			if a == "*" || strings.HasSuffix(a, ":*") {
				t.Errorf("statement %q allows %s", s.Sid(), a)
			}
		}
		for _, r := range s.Resources() {
			switch {
			case own[r]:
			case r == "arn:aws:logs:"+region+":"+account+":log-group:*" && cdktest.SameSet(s.Actions(), []string{"logs:DescribeLogGroups"}):
			default:
				t.Errorf("statement %q reaches %s, which is not the production's own", s.Sid(), r)
			}
			if r == asset {
				if via, _ := s.Condition("StringEquals", "kms:ViaService"); !cdktest.SameSet(via, []string{"s3." + region + ".amazonaws.com"}) {
					t.Errorf("statement %q uses the asset key via %v, want S3 only", s.Sid(), via)
				}
			}
		}
	}
}

// TestRenderBoundaryCapsTheRoleAtItsOwnStatements: the permissions boundary
// holds exactly the role's own statements plus what the SSM Agent needs, so
// a policy attached later cannot widen what a render node may do.
func TestRenderBoundaryCapsTheRoleAtItsOwnStatements(t *testing.T) {
	tpl := templates(t).Fleet
	inline, boundary := renderRolePolicies(t, tpl)
	bySid := map[string]cdktest.Statement{}
	for _, s := range boundary {
		if s.Effect() != "Allow" {
			t.Errorf("boundary statement %q is a %s", s.Sid(), s.Effect())
		}
		bySid[s.Sid()] = s
	}
	for _, s := range inline {
		b, ok := bySid[s.Sid()]
		if !ok {
			t.Errorf("the boundary lacks the role's statement %q: the role could not use it", s.Sid())
			continue
		}
		if !cdktest.SameSet(b.Actions(), s.Actions()) || !cdktest.SameSet(b.Resources(), s.Resources()) {
			t.Errorf("boundary statement %q allows %v on %v, the role %v on %v", s.Sid(), b.Actions(), b.Resources(), s.Actions(), s.Resources())
		}
		delete(bySid, s.Sid())
	}
	agent, ok := bySid["SessionManagerAndTags"]
	if !ok || len(bySid) != 1 {
		t.Fatalf("the boundary adds %d statements beyond the role's, want only SessionManagerAndTags", len(bySid))
	}
	for _, a := range agent.Actions() {
		service := a[:strings.Index(a, ":")]
		if service != "ssm" && service != "ssmmessages" && service != "ec2messages" && a != "ec2:DescribeTags" {
			t.Errorf("the boundary's agent statement allows %s", a)
		}
		if strings.Contains(a, "*") {
			t.Errorf("the boundary's agent statement allows the wildcard %s", a)
		}
	}
}

// TestLaunchTemplatesResolveTheirImageAtDeployTime: an ssm:/ AMI is a
// CloudFormation parameter of the SSM image type, so synthesis looks
// nothing up and each deploy takes the parameter's current image; an AMI id
// is used as given.
func TestLaunchTemplatesResolveTheirImageAtDeployTime(t *testing.T) {
	tpl := templates(t).Fleet
	raw := cdktest.JSON(tpl)
	params, _ := raw["Parameters"].(map[string]any)
	image := data(template(t, tpl, spot))["ImageId"]
	ref, _ := image.(map[string]any)["Ref"].(string)
	p, _ := params[ref].(map[string]any)
	if p["Type"] != "AWS::SSM::Parameter::Value<AWS::EC2::Image::Id>" || p["Default"] != strings.TrimPrefix(spot.Ami, "ssm:") {
		t.Errorf("%s: ImageId %v is parameter %v, want an SSM image parameter defaulting to %s", spot.Name, image, p, strings.TrimPrefix(spot.Ami, "ssm:"))
	}
	if got := data(template(t, tpl, onDemand))["ImageId"]; got != onDemand.Ami {
		t.Errorf("%s: ImageId %v, want %s", onDemand.Name, got, onDemand.Ami)
	}
}

// TestRenderNodesTerminateWhenTheyShutDown: a node that shuts itself down
// is terminated, so its volumes go with it (ISE 10.9).
func TestRenderNodesTerminateWhenTheyShutDown(t *testing.T) {
	tpl := templates(t).Fleet
	for _, p := range []render.Profile{spot, onDemand} {
		if got := data(template(t, tpl, p))["InstanceInitiatedShutdownBehavior"]; got != "terminate" {
			t.Errorf("%s: InstanceInitiatedShutdownBehavior %v, want terminate", p.Name, got)
		}
	}
}

// TestLauncherTerminatesOnlyItsProductionsNodes: the scheduler ends nodes
// of this production only, and never stops one (a stopped node keeps its
// volumes).
func TestLauncherTerminatesOnlyItsProductionsNodes(t *testing.T) {
	_, statements := launcher(t, templates(t).Fleet)
	var found int
	for _, s := range statements {
		for _, a := range s.Actions() {
			if a == "ec2:StopInstances" {
				t.Errorf("statement %q lets the launcher stop instances", s.Sid())
			}
		}
		if !s.Has("ec2:TerminateInstances") {
			continue
		}
		found++
		if !cdktest.SameSet(s.Resources(), []string{"arn:aws:ec2:" + region + ":" + account + ":instance/*"}) {
			t.Errorf("the launcher terminates %v", s.Resources())
		}
		if tag, _ := s.Condition("StringEquals", "aws:ResourceTag/Production"); !cdktest.SameSet(tag, []string{"nightfall"}) {
			t.Errorf("the launcher terminates instances tagged %v, want Production=nightfall", tag)
		}
	}
	if found != 1 {
		t.Errorf("%d statements allow ec2:TerminateInstances, want 1", found)
	}
}
