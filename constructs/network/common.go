// Package network builds the management hub and the private production
// networks (ISE 2.1 to 2.8, 10.5): only the management VPC reaches the
// internet, and only its license servers; productions reach management and
// on-premises through the Transit Gateway and never each other.
package network

import (
	"fmt"
	"math"
	"math/bits"
	"net/netip"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// FlowLogRetention keeps flow logs for a year (ISE 8.1).
const FlowLogRetention = awslogs.RetentionDays_ONE_YEAR

// ArchiveFlowLogs is a copy of a VPC's flow logs in the log-archive
// account's bucket (names.LogArchiveBucket), under Prefix.
type ArchiveFlowLogs struct {
	Bucket, Prefix string
}

// Destination is the S3 ARN VPC Flow Logs delivers to.
func (a ArchiveFlowLogs) Destination() string {
	return "arn:aws:s3:::" + a.Bucket + "/" + a.Prefix
}

// NewFlowLogs records ALL traffic of vpc to a log group encrypted with key.
// The log group is retained: it is evidence. With an archive (Bucket set)
// a second flow log delivers the same records straight to the log-archive
// account, where the VPC account's administrators, who can delete the log
// group, cannot delete them (ISE 8.1).
func NewFlowLogs(scope constructs.Construct, vpc awsec2.IVpc, key awskms.IKey, logGroupName string, archive ArchiveFlowLogs) awslogs.LogGroup {
	group := evidenceLogGroup(scope, "FlowLogGroup", logGroupName, key)
	// The delivery role serves the account's own flow logs only: the
	// service may not assume it for a flow log of another account.
	st := awscdk.Stack_Of(scope)
	account, region := *st.Account(), *st.Region()
	role := awsiam.NewRole(scope, jsii.String("FlowLogRole"), &awsiam.RoleProps{
		Description: jsii.String("VPC Flow Logs delivers " + logGroupName),
		AssumedBy: awsiam.NewServicePrincipal(jsii.String("vpc-flow-logs.amazonaws.com"), nil).WithConditions(&map[string]any{
			"StringEquals": map[string]any{"aws:SourceAccount": account},
			"ArnLike":      map[string]any{"aws:SourceArn": fmt.Sprintf("arn:aws:ec2:%s:%s:vpc-flow-log/*", region, account)},
		}),
	})
	awsec2.NewFlowLog(scope, jsii.String("FlowLog"), &awsec2.FlowLogProps{
		ResourceType: awsec2.FlowLogResourceType_FromVpc(vpc),
		Destination:  awsec2.FlowLogDestination_ToCloudWatchLogs(group, role),
		TrafficType:  awsec2.FlowLogTrafficType_ALL,
	})
	if archive.Bucket != "" {
		// The bucket is another account's: named, never imported, and its
		// policy (not a delivery role) admits this account's log delivery.
		awsec2.NewCfnFlowLog(scope, jsii.String("ArchiveFlowLog"), &awsec2.CfnFlowLogProps{
			ResourceId:         vpc.VpcId(),
			ResourceType:       jsii.String("VPC"),
			TrafficType:        jsii.String("ALL"),
			LogDestinationType: jsii.String("s3"),
			LogDestination:     jsii.String(archive.Destination()),
			DestinationOptions: map[string]any{"FileFormat": "plain-text", "HiveCompatiblePartitions": false, "PerHourPartition": true},
		})
	}
	return group
}

// evidenceLogGroup is a log group encrypted with key, kept a year and
// retained when its stack goes: what it holds is evidence (ISE 8.1).
func evidenceLogGroup(scope constructs.Construct, id, name string, key awskms.IKey) awslogs.LogGroup {
	return awslogs.NewLogGroup(scope, jsii.String(id), &awslogs.LogGroupProps{
		LogGroupName:  jsii.String(name),
		EncryptionKey: key,
		Retention:     FlowLogRetention,
		RemovalPolicy: awscdk.RemovalPolicy_RETAIN,
	})
}

// tierMasks sizes the subnet tiers of a VPC so that they fit any VPC from
// /16 to /22 across zones availability zones: half the space for the first
// tier, a quarter for the second, small subnets for the rest (never smaller
// than the /28 AWS allows).
func tierMasks(cidr netip.Prefix, zones int, tiers int) []float64 {
	spread := bits.Len(uint(zones - 1)) // ceil(log2(zones))
	first := cidr.Bits() + spread + 1
	masks := []int{first, first + 1, first + 3, first + 4}
	out := make([]float64, tiers)
	for i := range out {
		out[i] = math.Min(float64(masks[i]), 28)
	}
	return out
}

// isolatedTier is a subnet tier with no route to the internet.
func isolatedTier(name string, mask float64) *awsec2.SubnetConfiguration {
	return &awsec2.SubnetConfiguration{
		Name:       jsii.String(name),
		SubnetType: awsec2.SubnetType_PRIVATE_ISOLATED,
		CidrMask:   jsii.Number(mask),
	}
}

// routeTo adds a route for each cidr via the Transit Gateway to every subnet
// of the selection. Routes wait for the attachment: a route to a gateway
// that is not yet attached fails.
func routeTo(scope constructs.Construct, vpc awsec2.IVpc, groups []string, cidrs []string, tgw *string, attachment awscdk.CfnResource) {
	for _, g := range groups {
		subnets := vpc.SelectSubnets(&awsec2.SubnetSelection{SubnetGroupName: jsii.String(g)}).Subnets
		for i, s := range *subnets {
			table := s.RouteTable().RouteTableId()
			for j, c := range cidrs {
				r := awsec2.NewCfnRoute(scope, jsii.Sprintf("%sRoute%d%d", g, i, j), &awsec2.CfnRouteProps{
					RouteTableId:         table,
					DestinationCidrBlock: jsii.String(c),
					TransitGatewayId:     tgw,
				})
				r.AddResourceDependency(attachment, jsii.String("a route to the Transit Gateway needs the attachment"))
			}
		}
	}
}

func strs(ps []netip.Prefix) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.String()
	}
	return out
}
