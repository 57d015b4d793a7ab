package network

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"
)

// aclReason answers cdk-nag's AwsSolutions-VPC3, which warns on every
// network ACL entry because ACLs are easy to get wrong.
const aclReason = "ISE 2.6 requires network ACLs as a second layer under the security groups: each subnet tier admits only its own traffic and denies every other production's range; the entries are generated from the tier table and checked by the invariant and reachability tests."

// Rule is one network ACL entry, applied in both directions unless Ingress
// or Egress narrows it.
type Rule struct {
	Cidr     string
	Deny     bool
	FromPort int // 0 with ToPort 0: all traffic
	ToPort   int
	// Direction: "" for both, "in" or "out" for one.
	Direction string
}

// NewAcl creates a network ACL for the selected subnets with the rules in
// order; anything the rules do not allow is denied by the ACL's default rule.
func NewAcl(scope constructs.Construct, id string, vpc awsec2.IVpc, subnets *awsec2.SubnetSelection, rules []Rule) awsec2.NetworkAcl {
	acl := awsec2.NewNetworkAcl(scope, jsii.String(id), &awsec2.NetworkAclProps{Vpc: vpc, SubnetSelection: subnets})
	number := map[string]int{"in": 100, "out": 100}
	// Traffic and ranges are values: the entries of both directions, and
	// of rules with the same range, share one each, each made with one
	// jsii call.
	var all awsec2.AclTraffic
	cidrs := map[string]awsec2.AclCidr{}
	for _, r := range rules {
		if all == nil && r.FromPort == 0 {
			all = awsec2.AclTraffic_AllTraffic()
		}
		traffic := all
		if r.FromPort != 0 {
			traffic = awsec2.AclTraffic_TcpPortRange(jsii.Number(float64(r.FromPort)), jsii.Number(float64(r.ToPort)))
		}
		cidr, ok := cidrs[r.Cidr]
		if !ok {
			cidr = awsec2.AclCidr_Ipv4(jsii.String(r.Cidr))
			cidrs[r.Cidr] = cidr
		}
		for _, dir := range []string{"in", "out"} {
			if r.Direction != "" && r.Direction != dir {
				continue
			}
			direction, action := awsec2.TrafficDirection_INGRESS, awsec2.Action_ALLOW
			if dir == "out" {
				direction = awsec2.TrafficDirection_EGRESS
			}
			if r.Deny {
				action = awsec2.Action_DENY
			}
			acl.AddEntry(jsii.String(fmt.Sprintf("%s%d", dir, number[dir])), &awsec2.CommonNetworkAclEntryOptions{
				Cidr:       cidr,
				RuleNumber: jsii.Number(float64(number[dir])),
				Traffic:    traffic,
				Direction:  direction,
				RuleAction: action,
			})
			number[dir] += 10
		}
	}
	cdknag.NagSuppressions_AddResourceSuppressions(acl, &[]*cdknag.NagPackSuppression{
		{Id: jsii.String("AwsSolutions-VPC3"), Reason: jsii.String(aclReason)},
	}, jsii.Bool(true))
	return acl
}

// Ephemeral is the port range of replies to connections a subnet opens
// (NAT gateways use all of it); instances use only its upper part.
const (
	EphemeralFrom         = 1024
	InstanceEphemeralFrom = 32768
	EphemeralTo           = 65535
)
