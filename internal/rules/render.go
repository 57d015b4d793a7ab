package rules

import (
	"fmt"
	"slices"
	"strings"

	"github.com/renderenv/renderenv/internal/cfn"
)

// Render compute rules: ISE 4.1, 4.2, 9.1, 10.8, 10.9.

func init() {
	register(
		Rule{ID: "RE-RND-001", Controls: []string{"4.2", "10.8"},
			Description: "Every launch template requires IMDSv2 (HttpTokens required) with a hop limit of 1, so containers cannot take the node's credentials",
			Check:       checkImdsV2},
		Rule{ID: "RE-RND-002", Controls: []string{"2.3"},
			Description: "No launch template or instance assigns a public IP address; launch templates say so explicitly",
			Check:       checkNoPublicIP},
		Rule{ID: "RE-RND-003", Controls: []string{"4.1"},
			Description: "No launch template or instance installs an EC2 key pair: access is through Session Manager",
			Check:       checkNoKeyPair},
		Rule{ID: "RE-RND-004", Controls: []string{"4.2", "9.1"},
			Description: "Every EBS volume (launch template, instance, volume) is encrypted with a customer-managed key of its own account",
			Check:       checkVolumesEncrypted},
		Rule{ID: "RE-RND-005", Controls: []string{"10.9"},
			Description: "Every EBS volume of a launch template is deleted when its instance terminates",
			Check:       checkDeleteOnTermination},
		Rule{ID: "RE-RND-006", Controls: []string{"10.9"},
			Description: "Render nodes terminate rather than stop or hibernate, on spot interruption and on a shutdown from inside",
			Check:       checkNodesTerminate},
		Rule{ID: "RE-RND-007", Controls: []string{"4.2", "10.8"},
			Description: "Every launch template boots the studio's image: a pinned AMI id, or an SSM parameter its image pipeline publishes",
			Check:       checkImage},
		Rule{ID: "RE-RND-008", Controls: []string{"1.4", "4.1", "10.10"},
			Description: "Session Manager preferences stream every session, encrypted, to an encrypted log group, and end sessions idle for more than 30 minutes",
			Check:       checkSessionPreferences},
		Rule{ID: "RE-RND-009", Controls: []string{"4.1", "8.1"},
			Description: "With a log-archive account of its own, every Session Manager preferences document also uploads sessions, encrypted, under a prefix of a bucket of that account that locks them (Object Lock, COMPLIANCE) and lets the document's account write there",
			Check:       checkSessionArchive},
	)
}

const ltData = "LaunchTemplateData"

func checkImdsV2(a *cfn.Assembly, report Reporter) {
	for _, lt := range a.Resources("AWS::EC2::LaunchTemplate") {
		const md = ltData + ".MetadataOptions"
		if v := lt.Stack.String(lt.Prop(md + ".HttpTokens")); v != "required" {
			report(lt, md+".HttpTokens", "is %s, want required (IMDSv2)", orUnset(lt.Prop(md+".HttpTokens")))
		}
		// With a hop limit above 1 a container on the node (one hop
		// further) gets a token too, and with it the node's role. Unset,
		// the image decides.
		if n, ok := cfn.Number(lt.Prop(md + ".HttpPutResponseHopLimit")); !ok || n != 1 {
			report(lt, md+".HttpPutResponseHopLimit", "is %s, want 1", orUnset(lt.Prop(md+".HttpPutResponseHopLimit")))
		}
	}
}

func checkNoPublicIP(a *cfn.Assembly, report Reporter) {
	for _, r := range a.Resources("AWS::EC2::LaunchTemplate", "AWS::EC2::Instance") {
		base := "NetworkInterfaces"
		if r.Type == "AWS::EC2::LaunchTemplate" {
			base = ltData + ".NetworkInterfaces"
		}
		nis := cfn.AsList(r.Prop(base))
		if len(nis) == 0 && r.Type == "AWS::EC2::LaunchTemplate" {
			report(r, base, "not set: the public IP is left to the subnet's default; set AssociatePublicIpAddress false")
		}
		for i, ni := range nis {
			p := fmt.Sprintf("%s[%d].AssociatePublicIpAddress", base, i)
			if v := cfn.AsMap(ni)["AssociatePublicIpAddress"]; cfn.Truthy(v) || (r.Type == "AWS::EC2::LaunchTemplate" && !cfn.Falsy(v)) {
				report(r, p, "is %s, want false", orUnset(v))
			}
		}
	}
}

func checkNoKeyPair(a *cfn.Assembly, report Reporter) {
	for _, r := range a.Resources("AWS::EC2::LaunchTemplate", "AWS::EC2::Instance") {
		p := "KeyName"
		if r.Type == "AWS::EC2::LaunchTemplate" {
			p = ltData + ".KeyName"
		}
		if v := r.Prop(p); cfn.Present(v) {
			report(r, p, "installs key pair %s", r.Stack.String(v))
		}
	}
}

// ebsVolume is one EBS volume a template declares.
type ebsVolume struct {
	r    *cfn.Resource
	path string // of the Ebs block, or "" for an AWS::EC2::Volume
	ebs  map[string]any
}

func (v ebsVolume) at(prop string) string {
	if v.path == "" {
		return prop
	}
	return v.path + "." + prop
}

// ebsVolumes lists the EBS volumes of launch templates, instances and
// AWS::EC2::Volume resources.
func ebsVolumes(a *cfn.Assembly) []ebsVolume {
	var out []ebsVolume
	for _, r := range a.Resources("AWS::EC2::LaunchTemplate", "AWS::EC2::Instance", "AWS::EC2::Volume") {
		base := "BlockDeviceMappings"
		switch r.Type {
		case "AWS::EC2::Volume":
			out = append(out, ebsVolume{r, "", r.Properties})
			continue
		case "AWS::EC2::LaunchTemplate":
			base = ltData + "." + base
		}
		for i, b := range cfn.AsList(r.Prop(base)) {
			if ebs := cfn.AsMap(cfn.AsMap(b)["Ebs"]); ebs != nil {
				out = append(out, ebsVolume{r, fmt.Sprintf("%s[%d].Ebs", base, i), ebs})
			}
		}
	}
	return out
}

func checkVolumesEncrypted(a *cfn.Assembly, report Reporter) {
	for _, lt := range a.Resources("AWS::EC2::LaunchTemplate") {
		if len(cfn.AsList(lt.Prop(ltData+".BlockDeviceMappings"))) == 0 {
			report(lt, ltData+".BlockDeviceMappings", "not set: the image decides the volumes' encryption")
		}
	}
	for _, v := range ebsVolumes(a) {
		if !cfn.Truthy(v.ebs["Encrypted"]) {
			report(v.r, v.at("Encrypted"), "is %s, want true", orUnset(v.ebs["Encrypted"]))
			continue
		}
		if problem := kmsKeyProblem(v.r.Stack, v.ebs["KmsKeyId"]); problem != "" {
			report(v.r, v.at("KmsKeyId"), "%s", problem)
			continue
		}
		// Another account's key would let that account's users read the
		// volume.
		if k, _ := customerKey(v.r.Stack, v.ebs["KmsKeyId"]); k != nil && k.Stack.Account != "" && v.r.Stack.Account != "" && k.Stack.Account != v.r.Stack.Account {
			report(v.r, v.at("KmsKeyId"), "is %s, a key of account %s, not of this account %s", k, k.Stack.Account, v.r.Stack.Account)
		}
	}
}

func checkDeleteOnTermination(a *cfn.Assembly, report Reporter) {
	for _, v := range ebsVolumes(a) {
		if v.r.Type == "AWS::EC2::LaunchTemplate" && !cfn.Truthy(v.ebs["DeleteOnTermination"]) {
			report(v.r, v.at("DeleteOnTermination"), "is %s, want true: the volume would outlive its node", orUnset(v.ebs["DeleteOnTermination"]))
		}
	}
}

func checkNodesTerminate(a *cfn.Assembly, report Reporter) {
	for _, lt := range a.Resources("AWS::EC2::LaunchTemplate") {
		if cfn.Truthy(lt.Prop(ltData + ".HibernationOptions.Configured")) {
			report(lt, ltData+".HibernationOptions.Configured", "hibernation keeps memory and volumes")
		}
		const market = ltData + ".InstanceMarketOptions"
		oneTimeSpot := false
		if lt.Stack.String(lt.Prop(market+".MarketType")) == "spot" {
			b := lt.Stack.String(lt.Prop(market + ".SpotOptions.InstanceInterruptionBehavior"))
			if b != "" && b != "terminate" {
				report(lt, market+".SpotOptions.InstanceInterruptionBehavior", "is %q: an interrupted node keeps its volumes", b)
			}
			t := lt.Stack.String(lt.Prop(market + ".SpotOptions.SpotInstanceType"))
			oneTimeSpot = t == "" || t == "one-time"
		}
		// EC2 cannot stop an instance of a one-time Spot request.
		const shutdown = ltData + ".InstanceInitiatedShutdownBehavior"
		if s := lt.Stack.String(lt.Prop(shutdown)); s != "terminate" && !(oneTimeSpot && s == "") {
			report(lt, shutdown, "is %s: a node that shuts itself down is stopped and keeps its volumes", orUnset(lt.Prop(shutdown)))
		}
	}
}

func checkImage(a *cfn.Assembly, report Reporter) {
	for _, lt := range a.Resources("AWS::EC2::LaunchTemplate") {
		const path = ltData + ".ImageId"
		v := lt.Prop(path)
		if text, ok := lt.Stack.Literal(v); ok && strings.HasPrefix(text, "ami-") {
			continue
		}
		if id, attr := cfn.RefID(v); attr == "" && lt.Stack.Parameters[id] != nil && strings.HasPrefix(lt.Stack.Parameters[id].Type, "AWS::SSM::Parameter::Value<") {
			continue
		}
		report(lt, path, "is %s: neither an AMI id nor an SSM parameter, so nobody can say which image nodes boot", orUnset(v))
	}
}

// maxIdleMinutes is the longest a session may idle before it ends.
const maxIdleMinutes = 30

func checkSessionPreferences(a *cfn.Assembly, report Reporter) {
	for _, d := range a.Resources("AWS::SSM::Document") {
		if d.Stack.String(d.Properties["DocumentType"]) != "Session" {
			continue
		}
		const in = "Content.inputs"
		if lg := d.Resolve(in + ".cloudWatchLogGroupName"); lg == nil || lg.Type != "AWS::Logs::LogGroup" {
			report(d, in+".cloudWatchLogGroupName", "is %s, not a log group of the assembly: sessions are not recorded", orUnset(d.Prop(in+".cloudWatchLogGroupName")))
		} else if p := logGroupProblem(lg); p != "" {
			report(d, in+".cloudWatchLogGroupName", "%s", p)
		}
		if !cfn.Truthy(d.Prop(in + ".cloudWatchEncryptionEnabled")) {
			report(d, in+".cloudWatchEncryptionEnabled", "is %s, want true", orUnset(d.Prop(in+".cloudWatchEncryptionEnabled")))
		}
		if n, ok := cfn.Number(d.Prop(in + ".idleSessionTimeout")); !ok || n > maxIdleMinutes {
			report(d, in+".idleSessionTimeout", "is %s, want at most %d minutes", orUnset(d.Prop(in+".idleSessionTimeout")), maxIdleMinutes)
		}
	}
}

// checkSessionArchive: the session log group of a production account can
// be deleted by its administrators; the copy in the log-archive account
// cannot.
func checkSessionArchive(a *cfn.Assembly, report Reporter) {
	archive := logArchive(a)
	if archive == nil {
		return
	}
	for _, d := range a.Resources("AWS::SSM::Document") {
		if d.Stack.String(d.Properties["DocumentType"]) != "Session" {
			continue
		}
		const in = "Content.inputs"
		name, _ := d.Stack.Literal(d.Prop(in + ".s3BucketName"))
		if name == "" {
			report(d, in+".s3BucketName", "is %s: no copy of the sessions reaches the log-archive account %s", orUnset(d.Prop(in+".s3BucketName")), archive.Account)
			continue
		}
		prefix, _ := d.Stack.Literal(d.Prop(in + ".s3KeyPrefix"))
		bucket, _, problem := archiveBucket(archive, "arn:aws:s3:::"+name)
		switch {
		case problem != "":
			report(d, in+".s3BucketName", "%s", problem)
		case prefix == "":
			report(d, in+".s3KeyPrefix", "is %s: sessions of every production would share the bucket's root, where no policy can keep one production's writer to its own", orUnset(d.Prop(in+".s3KeyPrefix")))
		default:
			if problem := archivedBy(d.Stack, bucket, strings.TrimSuffix(prefix, "/")+"/x.log"); problem != "" {
				report(d, in+".s3KeyPrefix", "%s under %s", problem, prefix)
			}
		}
		if !cfn.Truthy(d.Prop(in + ".s3EncryptionEnabled")) {
			report(d, in+".s3EncryptionEnabled", "is %s, want true", orUnset(d.Prop(in+".s3EncryptionEnabled")))
		}
	}
}

// archivedBy says why the render nodes of a stack cannot write key to the
// archive bucket, or "": every role of the stack that EC2 assumes (its
// render roles), with its name, account and tags, must be let write it.
func archivedBy(s *cfn.Stack, bucket *cfn.Resource, key string) string {
	var roles, refused []string
	for _, p := range s.Assembly().Policies() {
		if p.Kind != cfn.Trust || p.Resource.Stack != s || !trustsEC2(p) {
			continue
		}
		r := p.Resource
		arn := "arn:aws:iam::" + s.Account + ":role/" + s.String(r.Properties["RoleName"])
		tags, _ := r.Tags()
		roles = append(roles, arn)
		if !bucketAllowsWrite(bucket, key, writer{Account: s.Account, Role: arn, Tags: tags}) {
			refused = append(refused, arn)
		}
	}
	switch {
	case len(roles) == 0:
		return "no role of the stack that EC2 assumes (a render role) may archive sessions"
	case len(refused) > 0:
		return "the policy of bucket " + bucket.Name() + " lets render role(s) " + strings.Join(refused, ", ") + " (with their Production tag) write nothing"
	}
	return ""
}

// trustsEC2 reports whether a trust policy lets EC2 assume its role.
func trustsEC2(p *cfn.Policy) bool {
	for _, st := range p.Statements {
		if st.Allow() && st.Principal != nil && slices.Contains(st.Principal.Service, "ec2.amazonaws.com") {
			return true
		}
	}
	return false
}
