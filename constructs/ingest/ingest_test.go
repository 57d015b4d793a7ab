package ingest_test

import (
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/jsii-runtime-go"

	"github.com/renderenv/renderenv/constructs/ingest"
	"github.com/renderenv/renderenv/internal/cdktest"
)

func TestMain(m *testing.M) { cdktest.Main(m) }

const (
	account = "333333333333"
	region  = "us-west-2"
	onPrem  = "192.168.0.0/16"
	bucket  = "acme-nightfall-assets-333333333333-us-west-2"
	agent   = "arn:aws:datasync:us-west-2:333333333333:agent/agent-0123456789abcdef0"
)

// build is a VPC with an endpoint tier and the ingest path, with or
// without an agent.
func build(t *testing.T, withAgent bool) assertions.Template {
	t.Helper()
	s := cdktest.NewStack(t, account, region)
	vpc := awsec2.NewVpc(s, jsii.String("Vpc"), &awsec2.VpcProps{
		IpAddresses:       awsec2.IpAddresses_Cidr(jsii.String("10.20.0.0/16")),
		AvailabilityZones: jsii.Strings(cdktest.Zones(region)...),
		NatGateways:       jsii.Number(0),
		SubnetConfiguration: &[]*awsec2.SubnetConfiguration{{
			Name: jsii.String("endpoints"), SubnetType: awsec2.SubnetType_PRIVATE_ISOLATED, CidrMask: jsii.Number(24),
		}},
	})
	props := ingest.Props{Prefix: "acme-nightfall", Account: account, Region: region, Vpc: vpc, Subnets: "endpoints", OnPremCidrs: []string{onPrem}}
	if withAgent {
		props.Agent = &ingest.Agent{
			Arn: agent, NFSServer: "192.168.10.20", NFSExport: "/exports/camera",
			Bucket: bucket, BucketKey: awskms.NewKey(s, jsii.String("AssetKey"), nil), Prefix: "ingest/",
			RoleName: "acme-nightfall-datasync", LogKey: awskms.NewKey(s, jsii.String("LogKey"), nil), LogGroup: "/acme-nightfall/datasync",
		}
	}
	ingest.New(s, "Ingest", props)
	return cdktest.Template(t, s)
}

var withAgent, withoutAgent cdktest.Once[assertions.Template]

func agentTemplate(t *testing.T) assertions.Template {
	return withAgent.Get(t, func() assertions.Template { return build(t, true) })
}

func TestDataSyncEndpointAdmitsOnlyTheAgentPortsFromOnPremises(t *testing.T) {
	tpl := agentTemplate(t)
	cdktest.HasProperties(t, tpl, "AWS::EC2::VPCEndpoint", map[string]any{
		"ServiceName":       "com.amazonaws.us-west-2.datasync",
		"PrivateDnsEnabled": true,
		"VpcEndpointType":   "Interface",
	})
	sg := cdktest.One(t, tpl, "AWS::EC2::SecurityGroup", nil)
	var ports []string
	for _, rule := range sg.Properties["SecurityGroupIngress"].([]any) {
		r := rule.(map[string]any)
		if r["CidrIp"] != onPrem || r["IpProtocol"] != "tcp" {
			t.Errorf("ingress %v: only TCP from %s", r, onPrem)
		}
		ports = append(ports, cdktest.Text(r["FromPort"])+"-"+cdktest.Text(r["ToPort"]))
	}
	if !cdktest.SameSet(ports, []string{"443-443", "1024-1064"}) {
		t.Errorf("agent ports %v, want 443 and 1024-1064 (and never 22)", ports)
	}
	if eg := sg.Properties["SecurityGroupEgress"]; eg == nil || strings.Contains(cdktest.Text(eg), "0.0.0.0/0\",\"IpProtocol\":\"-1") {
		t.Errorf("egress %v: the endpoint group sends nothing", eg)
	}
}

func TestIngestTaskVerifiesEveryFileAndLogsToItsOwnEncryptedGroup(t *testing.T) {
	tpl := agentTemplate(t)
	cdktest.HasProperties(t, tpl, "AWS::DataSync::Task", map[string]any{
		"Name":                  "acme-nightfall-ingest",
		"CloudWatchLogGroupArn": "arn:aws:logs:us-west-2:333333333333:log-group:/acme-nightfall/datasync",
		"Options":               cdktest.Obj(map[string]any{"VerifyMode": "POINT_IN_TIME_CONSISTENT", "OverwriteMode": "NEVER"}),
	})
	group := cdktest.One(t, tpl, "AWS::Logs::LogGroup", map[string]any{"Properties": map[string]any{"LogGroupName": "/acme-nightfall/datasync"}})
	if group.Properties["RetentionInDays"] != float64(365) || group.Properties["KmsKeyId"] == nil {
		t.Errorf("task log group: retention %v, key %v; want 365 days and the logging key", group.Properties["RetentionInDays"], group.Properties["KmsKeyId"])
	}
	cdktest.HasProperties(t, tpl, "AWS::DataSync::LocationNFS", map[string]any{
		"ServerHostname": "192.168.10.20", "Subdirectory": "/exports/camera",
		"OnPremConfig": map[string]any{"AgentArns": []any{agent}},
	})
	cdktest.HasProperties(t, tpl, "AWS::DataSync::LocationS3", map[string]any{
		"S3BucketArn": "arn:aws:s3:::" + bucket, "Subdirectory": "/ingest/",
	})
	policy := cdktest.One(t, tpl, "AWS::Logs::ResourcePolicy", nil)
	doc := cdktest.Text(policy.Properties["PolicyDocument"])
	for _, want := range []string{"datasync.amazonaws.com", "aws:SourceAccount", "arn:aws:datasync:us-west-2:333333333333:task/*"} {
		if !strings.Contains(doc, want) {
			t.Errorf("the logs resource policy does not hold %s: %s", want, doc)
		}
	}
}

func TestDataSyncRoleWritesOnlyUnderTheIngestPrefix(t *testing.T) {
	tpl := agentTemplate(t)
	role := cdktest.One(t, tpl, "AWS::IAM::Role", map[string]any{"Properties": map[string]any{"RoleName": "acme-nightfall-datasync"}})
	trust := cdktest.Statements(role.Properties["AssumeRolePolicyDocument"])
	if len(trust) != 1 || !cdktest.SameSet(trust[0].Principals("Service"), []string{"datasync.amazonaws.com"}) {
		t.Fatalf("trust %v: DataSync alone", trust)
	}
	if acct, ok := trust[0].Condition("StringEquals", "aws:SourceAccount"); !ok || !cdktest.SameSet(acct, []string{account}) {
		t.Errorf("trust admits DataSync for %v, want only %s", acct, account)
	}
	p := cdktest.One(t, tpl, "AWS::IAM::Policy", map[string]any{"Properties": map[string]any{"Roles": []any{cdktest.Ref(role.ID)}}})
	for _, st := range cdktest.Statements(p.Properties["PolicyDocument"]) {
		for _, r := range st.Resources() {
			switch {
			case st.Has("s3:PutObject") && r != "arn:aws:s3:::"+bucket+"/ingest/*":
				t.Errorf("DataSync writes %s, outside ingest/", r)
			case st.Has("s3:ListBucket") && r != "arn:aws:s3:::"+bucket:
				t.Errorf("DataSync lists %s", r)
			}
		}
		if st.Has("kms:GenerateDataKey") {
			if via, _ := st.Condition("StringEquals", "kms:ViaService"); !cdktest.SameSet(via, []string{"s3.us-west-2.amazonaws.com"}) {
				t.Errorf("DataSync uses the asset key outside S3: %v", via)
			}
		}
	}
}

func TestWithoutAnAgentOnlyTheEndpointIsBuilt(t *testing.T) {
	tpl := withoutAgent.Get(t, func() assertions.Template { return build(t, false) })
	cdktest.Count(t, tpl, "AWS::EC2::VPCEndpoint", 1)
	for _, typ := range []string{"AWS::DataSync::Task", "AWS::DataSync::LocationS3", "AWS::Logs::LogGroup"} {
		cdktest.Count(t, tpl, typ, 0)
	}
	if roles := cdktest.Find(t, tpl, "AWS::IAM::Role", map[string]any{"Properties": map[string]any{"RoleName": "acme-nightfall-datasync"}}); len(roles) != 0 {
		t.Errorf("a DataSync role without an agent: %v", roles)
	}
}
