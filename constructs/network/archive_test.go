package network_test

import (
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"

	"github.com/renderenv/renderenv/internal/cdktest"
)

// Production and Hub copy their flow logs to the log-archive account's
// bucket, beside the log group their own account keeps.
func TestEveryVpcCopiesAllItsTrafficToTheLogArchiveBucket(t *testing.T) {
	for name, tpl := range map[string]assertions.Template{"production": templates(t).Production, "management": templates(t).Hub} {
		t.Run(name, func(t *testing.T) {
			vpc := cdktest.One(t, tpl, "AWS::EC2::VPC", nil).ID
			copies := cdktest.Find(t, tpl, "AWS::EC2::FlowLog", map[string]any{"Properties": map[string]any{"LogDestinationType": "s3"}})
			if len(copies) != 1 {
				t.Fatalf("%d flow logs deliver to S3, want one copy", len(copies))
			}
			cdktest.HasProperties(t, tpl, "AWS::EC2::FlowLog", map[string]any{
				"ResourceType":       "VPC",
				"ResourceId":         cdktest.Ref(vpc),
				"TrafficType":        "ALL",
				"LogDestinationType": "s3",
				"LogDestination":     "arn:aws:s3:::" + archiveBucket + "/flow-logs/",
				// The bucket's policy admits the account's log deliveries:
				// no role of the account is involved, so none can be misused.
				"DeliverLogsPermissionArn": assertions.Match_Absent(),
			})
			// The account's own copy stays.
			cdktest.CountProperties(t, tpl, "AWS::EC2::FlowLog", map[string]any{"LogDestinationType": "cloud-watch-logs", "ResourceId": cdktest.Ref(vpc)}, 1)
		})
	}
}

func TestWithoutALogArchiveFlowLogsStayInTheirAccount(t *testing.T) {
	for name, tpl := range map[string]assertions.Template{"production": templates(t).Small, "management": templates(t).PlainHub} {
		t.Run(name, func(t *testing.T) {
			cdktest.CountProperties(t, tpl, "AWS::EC2::FlowLog", map[string]any{"LogDestinationType": "s3"}, 0)
			cdktest.Count(t, tpl, "AWS::EC2::FlowLog", 1)
			for _, e := range cdktest.Find(t, tpl, "AWS::EC2::VPCEndpoint", map[string]any{"Properties": map[string]any{"VpcEndpointType": "Gateway"}}) {
				for _, s := range cdktest.Statements(e.Properties["PolicyDocument"]) {
					for _, r := range s.Resources() {
						if strings.HasPrefix(r, "arn:aws:s3:::"+archiveBucket) {
							t.Errorf("statement %q admits the log-archive bucket without a log archive", s.Sid())
						}
					}
				}
			}
		})
	}
}
