package rules

import (
	"strings"

	"github.com/renderenv/renderenv/internal/cfn"
)

// Audit rules: ISE 8.1, 9.1, 9.4, 10.11.

func init() {
	register(
		Rule{ID: "RE-AUD-001", Controls: []string{"8.1", "10.11"},
			Description: "Every CloudTrail trail is logging, multi-region, records global service events and validates its log files",
			Check:       checkTrail},
		Rule{ID: "RE-AUD-002", Controls: []string{"8.1", "9.1", "9.4"},
			Description: "Every CloudTrail trail encrypts its log files with a customer-managed key",
			Check:       checkTrailEncrypted},
		Rule{ID: "RE-AUD-003", Controls: []string{"8.1"},
			Description: "Every VPC has a flow log of ALL traffic to an encrypted log group kept at least 365 days, or to an encrypted bucket; no flow log records less",
			Check:       checkFlowLogs},
		Rule{ID: "RE-AUD-004", Controls: []string{"8.1", "9.1"},
			Description: "Every log group is encrypted with a customer-managed key and keeps its events at least 365 days",
			Check:       checkLogGroups},
		Rule{ID: "RE-AUD-005", Controls: []string{"8.1", "9.1"},
			Description: "Every SNS topic is encrypted with a customer-managed key",
			Check:       checkTopicsEncrypted},
		Rule{ID: "RE-AUD-006", Controls: []string{"8.1", "9.4"},
			Description: "With a log-archive account of its own, every VPC also sends a flow log of ALL traffic straight to a bucket of that account that locks it (Object Lock, COMPLIANCE) and lets the VPC's account deliver there",
			Check:       checkFlowLogArchive},
	)
}

func checkTrail(a *cfn.Assembly, report Reporter) {
	for _, tr := range a.Resources("AWS::CloudTrail::Trail") {
		for _, p := range []string{"IsLogging", "IsMultiRegionTrail", "IncludeGlobalServiceEvents", "EnableLogFileValidation"} {
			if !cfn.Truthy(tr.Properties[p]) {
				report(tr, p, "is %s, want true", orUnset(tr.Properties[p]))
			}
		}
	}
}

func checkTrailEncrypted(a *cfn.Assembly, report Reporter) {
	for _, tr := range a.Resources("AWS::CloudTrail::Trail") {
		if problem := kmsKeyProblem(tr.Stack, tr.Properties["KMSKeyId"]); problem != "" {
			report(tr, "KMSKeyId", "%s", problem)
		}
	}
}

const minRetentionDays = 365

// logGroupProblem says what is wrong with a log group as a destination
// for logs that must be kept, or "".
func logGroupProblem(lg *cfn.Resource) string {
	if p := kmsKeyProblem(lg.Stack, lg.Properties["KmsKeyId"]); p != "" {
		return "log group " + lg.ID + ": KmsKeyId " + p
	}
	if days, ok := cfn.Number(lg.Properties["RetentionInDays"]); !ok || days < minRetentionDays {
		return "log group " + lg.ID + ": RetentionInDays is " + orUnset(lg.Properties["RetentionInDays"]) + ", want at least 365"
	}
	return ""
}

func checkFlowLogs(a *cfn.Assembly, report Reporter) {
	for _, fl := range a.Resources("AWS::EC2::FlowLog") {
		if v := fl.Stack.String(fl.Properties["TrafficType"]); v != "ALL" && fl.Properties["TrafficType"] != nil {
			report(fl, "TrafficType", "is %s, want ALL: accepted and rejected traffic are both evidence", v)
		}
	}
	judgeFlowLogs(a, "no AWS::EC2::FlowLog names it", func(_, fl *cfn.Resource) (string, bool) {
		dest := fl.Resolve("LogGroupName")
		if dest == nil {
			dest = fl.Resolve("LogDestination")
		}
		switch {
		case dest != nil && dest.Type == "AWS::Logs::LogGroup":
			return logGroupProblem(dest), true
		case dest != nil && dest.Type == "AWS::S3::Bucket":
			if p := kmsKeyProblem(dest.Stack, dest.Prop("BucketEncryption.ServerSideEncryptionConfiguration[0].ServerSideEncryptionByDefault.KMSMasterKeyID")); p != "" {
				return "bucket " + dest.ID + ": KMSMasterKeyID " + p, true
			}
			return "", true
		}
		return "its destination is no log group or bucket of the assembly", true
	}, func(vpc *cfn.Resource, why string) {
		report(vpc, "", "no flow log of all traffic to an encrypted destination kept a year: %s", why)
	})
}

// judgeFlowLogs judges every VPC by its flow logs of all traffic: judge
// says what is wrong with one (and whether it counts at all); a VPC none
// of whose counted flow logs is good fails with the reasons, or none.
func judgeFlowLogs(a *cfn.Assembly, none string, judge func(vpc, fl *cfn.Resource) (problem string, counts bool), fail func(vpc *cfn.Resource, why string)) {
	logs := map[*cfn.Resource][]*cfn.Resource{}
	for _, fl := range a.Resources("AWS::EC2::FlowLog") {
		if vpc := fl.Resolve("ResourceId"); vpc != nil {
			logs[vpc] = append(logs[vpc], fl)
		}
	}
	for _, vpc := range a.Resources("AWS::EC2::VPC") {
		var why []string
		good := false
		for _, fl := range logs[vpc] {
			problem, counts := judge(vpc, fl)
			switch {
			case !counts:
			case fl.Stack.String(fl.Properties["TrafficType"]) != "ALL":
				why = append(why, fl.ID+": TrafficType "+orUnset(fl.Properties["TrafficType"])+", want ALL")
			case problem != "":
				why = append(why, fl.ID+": "+problem)
			default:
				good = true
			}
		}
		if !good {
			if len(why) == 0 {
				why = []string{none}
			}
			fail(vpc, strings.Join(why, "; "))
		}
	}
}

func checkLogGroups(a *cfn.Assembly, report Reporter) {
	for _, lg := range a.Resources("AWS::Logs::LogGroup") {
		if p := kmsKeyProblem(lg.Stack, lg.Properties["KmsKeyId"]); p != "" {
			report(lg, "KmsKeyId", "%s", p)
		}
		if days, ok := cfn.Number(lg.Properties["RetentionInDays"]); !ok || days < minRetentionDays {
			report(lg, "RetentionInDays", "is %s, want at least %d", orUnset(lg.Properties["RetentionInDays"]), minRetentionDays)
		}
	}
}

func checkTopicsEncrypted(a *cfn.Assembly, report Reporter) {
	for _, t := range a.Resources("AWS::SNS::Topic") {
		if p := kmsKeyProblem(t.Stack, t.Properties["KmsMasterKeyId"]); p != "" {
			report(t, "KmsMasterKeyId", "%s", p)
		}
	}
}

// checkFlowLogArchive: the flow logs a VPC's account keeps itself can be
// deleted by that account's administrators; a copy in the log-archive
// account cannot.
func checkFlowLogArchive(a *cfn.Assembly, report Reporter) {
	archive := logArchive(a)
	if archive == nil {
		return
	}
	judgeFlowLogs(a, "no AWS::EC2::FlowLog of it delivers to S3", func(vpc, fl *cfn.Resource) (string, bool) {
		if fl.Stack.String(fl.Properties["LogDestinationType"]) != "s3" {
			return "", false
		}
		dest, _ := fl.Stack.Literal(fl.Properties["LogDestination"])
		bucket, prefix, problem := archiveBucket(archive, dest)
		if problem == "" && !bucketAllowsWrite(bucket, prefix+"AWSLogs/"+vpc.Stack.Account+"/vpcflowlogs/x", writer{Service: "delivery.logs.amazonaws.com", Account: vpc.Stack.Account}) {
			problem = "the policy of bucket " + bucket.Name() + " does not let delivery.logs.amazonaws.com write account " + vpc.Stack.Account + "'s flow logs"
		}
		if problem != "" {
			return "LogDestination " + problem, true
		}
		return "", true
	}, func(vpc *cfn.Resource, why string) {
		report(vpc, "", "no copy of its flow logs reaches the log-archive account %s: %s", archive.Account, why)
	})
}
