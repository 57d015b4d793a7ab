package evidence

import (
	"fmt"
	"slices"
	"strings"

	"github.com/renderenv/renderenv/internal/cfn"
	"github.com/renderenv/renderenv/internal/names"
)

// The data paths of reference 000: ingest from set over the production's
// own endpoint, its asset bucket's DR copy, and the vendor exchange. Each
// check is n/a for a production that has none of it.

var (
	ckIngest   = check{"ingest reaches the asset bucket privately, from on-premises only, verifying every file", checkIngest, nil}
	ckReplica  = check{"the asset bucket is copied to another region, encrypted there with a key of that region", checkReplica, nil}
	ckVendors  = check{"each vendor reaches only its own exchange prefix, with an external id, until its date", checkVendors, []string{"RE-XCH-001", "RE-XCH-002"}}
	ckExchange = check{"the exchange bucket expires hand-overs, writes access logs and a trail records its objects", checkExchangeLogging, []string{"RE-XCH-003"}}
)

func notUsed(detail string) result { return result{outcome: NotUsed, detail: detail} }

// checkIngest: the DataSync endpoint has private DNS and admits only the
// on-premises ranges; an agent's task verifies every file and logs to an
// encrypted group (ISE 10.6: asset transfer).
func checkIngest(v *view) result {
	if v.r.Ingest == nil {
		return notUsed(v.r.Name + " declares no ingest")
	}
	var e []Evidence
	var problems []string
	onPrem := map[string]bool{}
	for _, c := range v.studio.OnPremises.Cidrs {
		onPrem[c.String()] = true
	}
	endpoints := 0
	for _, ep := range v.t(v.prod).OfType("AWS::EC2::VPCEndpoint") {
		if !strings.HasSuffix(v.t(v.prod).String(ep.Properties["ServiceName"]), ".datasync") {
			continue
		}
		endpoints++
		if !cfn.Truthy(ep.Properties["PrivateDnsEnabled"]) {
			problems = append(problems, cite(ep)+" has no private DNS")
		}
		e = append(e, ev(ep, "PrivateDnsEnabled", ep.Properties["PrivateDnsEnabled"]))
		for _, sg := range ep.ResolveAll("SecurityGroupIds") {
			for i, rule := range cfn.AsList(sg.Properties["SecurityGroupIngress"]) {
				if cidr := sg.Stack.String(cfn.AsMap(rule)["CidrIp"]); !onPrem[cidr] {
					problems = append(problems, fmt.Sprintf("%s admits %s, not an on-premises range", cite(sg), cidr))
				} else {
					e = append(e, ev(sg, fmt.Sprintf("SecurityGroupIngress[%d]", i), rule))
				}
			}
		}
	}
	if endpoints == 0 {
		problems = append(problems, v.prod+" has no DataSync interface endpoint")
	}
	for _, task := range v.t(v.prod).OfType("AWS::DataSync::Task") {
		if mode := v.t(v.prod).String(task.Prop("Options.VerifyMode")); mode != "POINT_IN_TIME_CONSISTENT" && mode != "ONLY_FILES_TRANSFERRED" {
			problems = append(problems, fmt.Sprintf("%s verifies %q, not every file", cite(task), mode))
		}
		e = append(e, ev(task, "Options.VerifyMode", task.Prop("Options.VerifyMode")), ev(task, "CloudWatchLogGroupArn", task.Properties["CloudWatchLogGroupArn"]))
	}
	return verdict("DataSync reaches the production through its own endpoint, with private DNS, from the on-premises ranges only; an agent's task checksums every file", problems, e)
}

// checkReplica: the asset bucket replicates to a bucket of the DR stack
// (RE-XCH-003, cited by ckExchange, holds that bucket to its named users).
func checkReplica(v *view) result {
	if v.r.Ingest == nil {
		return notUsed(v.r.Name + " declares no ingest, so no disaster-recovery copy")
	}
	b, res, ok := v.needBucket()
	if !ok {
		return res
	}
	n := names.Names{Studio: v.studio.Studio}
	want := "arn:aws:s3:::" + n.ReplicaBucket(v.r.Name, v.r.Account, v.r.Ingest.DrRegion)
	var e []Evidence
	for i, rule := range cfn.AsList(b.Prop("ReplicationConfiguration.Rules")) {
		m := cfn.AsMap(rule)
		if b.Stack.String(cfn.At(m, "Destination.Bucket")) == want && cfn.Present(cfn.At(m, "Destination.EncryptionConfiguration.ReplicaKmsKeyID")) {
			e = append(e, ev(b, fmt.Sprintf("ReplicationConfiguration.Rules[%d].Destination", i), cfn.At(m, "Destination")))
		}
	}
	if len(e) == 0 {
		return failed(fmt.Sprintf("%s does not replicate to %s under a key of %s", cite(b), want, v.r.Ingest.DrRegion))
	}
	dr := v.t(n.DrStack(v.r.Name))
	for _, rb := range dr.OfType("AWS::S3::Bucket") {
		if "arn:aws:s3:::"+rb.Name() == want {
			e = append(e, ev(rb, "BucketEncryption", rb.Prop("BucketEncryption")))
		}
	}
	return passed(fmt.Sprintf("the asset bucket replicates every version to %s in %s, encrypted with that region's replica key", want, v.r.Ingest.DrRegion), e...)
}

// vendorRoles are the roles of the production's exchange stack.
func (v *view) vendorRoles() []*cfn.Resource {
	s := v.t(names.Names{Studio: v.studio.Studio}.ExchangeStack(v.r.Name))
	if s == nil {
		return nil
	}
	return s.OfType("AWS::IAM::Role")
}

// checkVendors cites each vendor role's trust: one account, the external
// id and the date (ISE 7.1: least privilege; RE-XCH-002 judges the
// prefix, RE-XCH-001 that no other stack names a vendor).
func checkVendors(v *view) result {
	if len(v.r.Vendors) == 0 {
		return notUsed(v.r.Name + " has no vendors")
	}
	var e []Evidence
	var problems []string
	n := names.Names{Studio: v.studio.Studio}
	for _, vd := range v.r.Vendors {
		i := slices.IndexFunc(v.vendorRoles(), func(r *cfn.Resource) bool { return r.Name() == n.VendorRole(v.r.Name, vd.Name) })
		if i < 0 {
			problems = append(problems, "no role for vendor "+vd.Name)
			continue
		}
		role := v.vendorRoles()[i]
		e = append(e, ev(role, "AssumeRolePolicyDocument", role.Properties["AssumeRolePolicyDocument"]))
	}
	return verdict(fmt.Sprintf("%s: each role trusts its vendor's account only with its external id and until its date, on its own prefix", count(len(v.r.Vendors), "vendor", "vendors")), problems, e)
}

// checkExchangeLogging: the exchange bucket writes server access logs,
// and a trail (the organization's, or the exchange account's own)
// records its objects (ISE 5.3, 8.1).
func checkExchangeLogging(v *view) result {
	if len(v.r.Vendors) == 0 {
		return notUsed(v.r.Name + " has no vendors, so no exchange bucket")
	}
	n := names.Names{Studio: v.studio.Studio}
	s := v.t(n.ExchangeStack(v.r.Name))
	name := n.ExchangeBucket(v.r.Name, s.Account, s.Region)
	var b *cfn.Resource
	for _, r := range s.OfType("AWS::S3::Bucket") {
		if r.Name() == name {
			b = r
		}
	}
	if b == nil {
		return failed(s.Name + " has no bucket " + name)
	}
	var e []Evidence
	var problems []string
	if !cfn.Present(b.Prop("LoggingConfiguration.DestinationBucketName")) {
		problems = append(problems, cite(b)+" writes no server access logs")
	} else {
		e = append(e, ev(b, "LoggingConfiguration", b.Prop("LoggingConfiguration")))
	}
	trails := append(v.trails(), s.OfType("AWS::CloudTrail::Trail")...)
	covered := false
	for _, tr := range trails {
		if prop, ok := trailCoversObject(tr, "arn:aws:s3:::"+name+"/vendor/handover.exr"); ok {
			covered = true
			e = append(e, ev(tr, prop, "records object reads and writes in "+name))
		}
	}
	if !covered {
		problems = append(problems, "no trail records object reads and writes in "+name)
	}
	return verdict(name+" writes server access logs and a trail records every object read and write", problems, e)
}
