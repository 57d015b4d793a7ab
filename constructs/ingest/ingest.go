// Package ingest creates a production's private ingest path from set
// (reference 000): a DataSync interface endpoint in the production's VPC
// that only the studio's own ranges reach, and, with an activated agent,
// the task that copies a share into the asset bucket with full
// verification, logging to an encrypted log group of its own.
package ingest

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsdatasync"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/renderenv/renderenv/constructs/access"
)

// AgentPorts are what a DataSync agent opens to a VPC endpoint: HTTPS
// (activation and control) and the data channel, TCP 1024 to 1064.
// DataSync's optional support channel on TCP 22 is left closed: no
// security group of the estate admits SSH (rule RE-NET-008).
var AgentPorts = [][2]int{{443, 443}, {1024, 1064}}

// Props describe one production's ingest.
type Props struct {
	// Prefix is <studio>-<production>: names and descriptions.
	Prefix, Account, Region string
	Vpc                     awsec2.IVpc
	// Subnets is the subnet group of the endpoint (the endpoint tier).
	Subnets string
	// OnPremCidrs are the only sources the endpoint admits.
	OnPremCidrs []string
	// Agent, when its Arn is set, adds the task.
	Agent *Agent
}

// Agent is an activated DataSync agent and the NFS share it reads.
type Agent struct {
	Arn, NFSServer, NFSExport string
	// Bucket (a name) and BucketKey are the asset bucket and its key;
	// the task writes under Prefix there.
	Bucket    string
	BucketKey awskms.IKey
	Prefix    string
	// RoleName is the role DataSync writes the bucket as.
	RoleName string
	// LogKey encrypts LogGroup, the task's own log group.
	LogKey   awskms.IKey
	LogGroup string
}

// Ingest is the endpoint, its group and, with an agent, the task.
type Ingest struct {
	constructs.Construct
	Endpoint awsec2.InterfaceVpcEndpoint
	Group    awsec2.SecurityGroup
	Role     awsiam.Role // nil without an agent
	Task     awsdatasync.CfnTask
	LogGroup awslogs.LogGroup
}

// New creates the ingest path.
func New(scope constructs.Construct, id string, props Props) *Ingest {
	c := constructs.NewConstruct(scope, jsii.String(id))
	in := &Ingest{Construct: c}
	in.Group = awsec2.NewSecurityGroup(c, jsii.String("AgentGroup"), &awsec2.SecurityGroupProps{
		Vpc:              props.Vpc,
		Description:      jsii.String(props.Prefix + " DataSync endpoint: agent ports from the on-premises ranges only"),
		AllowAllOutbound: jsii.Bool(false),
	})
	for _, cidr := range props.OnPremCidrs {
		for _, p := range AgentPorts {
			in.Group.AddIngressRule(awsec2.Peer_Ipv4(jsii.String(cidr)), awsec2.Port_TcpRange(jsii.Number(p[0]), jsii.Number(p[1])),
				jsii.String(fmt.Sprintf("DataSync agent TCP %d-%d from on-premises", p[0], p[1])), nil)
		}
	}
	in.Endpoint = awsec2.NewInterfaceVpcEndpoint(c, jsii.String("Endpoint"), &awsec2.InterfaceVpcEndpointProps{
		Vpc:               props.Vpc,
		Service:           awsec2.InterfaceVpcEndpointAwsService_DATASYNC(),
		PrivateDnsEnabled: jsii.Bool(true),
		Subnets:           &awsec2.SubnetSelection{SubnetGroupName: jsii.String(props.Subnets)},
		SecurityGroups:    &[]awsec2.ISecurityGroup{in.Group},
		Open:              jsii.Bool(false),
	})
	if props.Agent != nil {
		in.task(c, props)
	}
	return in
}

// task adds the role, locations, log group and task of an agent.
func (in *Ingest) task(c constructs.Construct, props Props) {
	a := props.Agent
	bucketArn := "arn:aws:s3:::" + a.Bucket
	sourceArn := fmt.Sprintf("arn:aws:datasync:%s:%s:*", props.Region, props.Account)
	role := access.NewServiceRole(c, "Role", access.ServiceRoleProps{
		Name:        a.RoleName,
		Description: "DataSync writes ingested files under " + a.Prefix + " of the asset bucket as this role; nothing else may assume it",
		Service:     "datasync.amazonaws.com",
		Account:     props.Account,
		SourceArn:   sourceArn,
	})
	in.Role = role.Role
	add := role.Allow
	add("ListTheAssetBucket", []string{"s3:GetBucketLocation", "s3:ListBucket", "s3:ListBucketMultipartUploads"}, []*string{jsii.String(bucketArn)}, nil)
	add("WriteUnderTheIngestPrefix", []string{
		"s3:AbortMultipartUpload", "s3:DeleteObject", "s3:GetObject", "s3:GetObjectTagging",
		"s3:ListMultipartUploadParts", "s3:PutObject", "s3:PutObjectTagging",
	}, []*string{jsii.String(bucketArn + "/" + a.Prefix + "*")}, nil)
	add("AssetKeyThroughS3", []string{"kms:Decrypt", "kms:GenerateDataKey"}, []*string{a.BucketKey.KeyArn()},
		map[string]any{"StringEquals": map[string]any{"kms:ViaService": fmt.Sprintf("s3.%s.amazonaws.com", props.Region)}})

	in.LogGroup = awslogs.NewLogGroup(c, jsii.String("Logs"), &awslogs.LogGroupProps{
		LogGroupName:  jsii.String(a.LogGroup),
		EncryptionKey: a.LogKey,
		Retention:     awslogs.RetentionDays_ONE_YEAR,
		RemovalPolicy: awscdk.RemovalPolicy_RETAIN,
	})
	// DataSync writes its task logs through the service, for this
	// account's tasks only.
	awslogs.NewResourcePolicy(c, jsii.String("LogsPolicy"), &awslogs.ResourcePolicyProps{
		ResourcePolicyName: jsii.String(props.Prefix + "-datasync"),
		PolicyStatements: &[]awsiam.PolicyStatement{awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:        jsii.String("DataSyncWritesItsTaskLogs"),
			Principals: &[]awsiam.IPrincipal{awsiam.NewServicePrincipal(jsii.String("datasync.amazonaws.com"), nil)},
			Actions:    jsii.Strings("logs:CreateLogStream", "logs:PutLogEvents"),
			Resources:  &[]*string{jsii.String(*in.LogGroup.LogGroupArn())},
			Conditions: &map[string]any{
				"StringEquals": map[string]any{"aws:SourceAccount": props.Account},
				"ArnLike":      map[string]any{"aws:SourceArn": fmt.Sprintf("arn:aws:datasync:%s:%s:task/*", props.Region, props.Account)},
			},
		})},
	})

	dest := awsdatasync.NewCfnLocationS3(c, jsii.String("AssetLocation"), &awsdatasync.CfnLocationS3Props{
		S3BucketArn:    jsii.String(bucketArn),
		S3Config:       &awsdatasync.CfnLocationS3_S3ConfigProperty{BucketAccessRoleArn: in.Role.RoleArn()},
		Subdirectory:   jsii.String("/" + a.Prefix),
		S3StorageClass: jsii.String("STANDARD"),
	})
	// DataSync checks the role's access when it creates the location.
	dest.Node().AddDependency(in.Role)
	source := awsdatasync.NewCfnLocationNFS(c, jsii.String("ShareLocation"), &awsdatasync.CfnLocationNFSProps{
		ServerHostname: jsii.String(a.NFSServer),
		Subdirectory:   jsii.String(a.NFSExport),
		OnPremConfig:   &awsdatasync.CfnLocationNFS_OnPremConfigProperty{AgentArns: jsii.Strings(a.Arn)},
		MountOptions:   &awsdatasync.CfnLocationNFS_MountOptionsProperty{Version: jsii.String("AUTOMATIC")},
	})
	in.Task = awsdatasync.NewCfnTask(c, jsii.String("Task"), &awsdatasync.CfnTaskProps{
		Name:                   jsii.String(props.Prefix + "-ingest"),
		SourceLocationArn:      source.AttrLocationArn(),
		DestinationLocationArn: dest.AttrLocationArn(),
		CloudWatchLogGroupArn:  jsii.String(fmt.Sprintf("arn:aws:logs:%s:%s:log-group:%s", props.Region, props.Account, a.LogGroup)),
		Options: &awsdatasync.CfnTask_OptionsProperty{
			// Checksums of every file at the source and destination once
			// the transfer ends, so an original that changed on the way
			// fails the task.
			VerifyMode:           jsii.String("POINT_IN_TIME_CONSISTENT"),
			TransferMode:         jsii.String("CHANGED"),
			OverwriteMode:        jsii.String("NEVER"),
			PreserveDeletedFiles: jsii.String("PRESERVE"),
			LogLevel:             jsii.String("TRANSFER"),
			TaskQueueing:         jsii.String("ENABLED"),
		},
	})
	in.Task.Node().AddDependency(in.LogGroup)
}
