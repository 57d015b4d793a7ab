package audit

// Alarm is a metric filter on the trail's log group that pages the security
// topic (ISE 8.1, 9.4). The patterns follow the CIS AWS Foundations
// Benchmark's monitoring section.
type Alarm struct {
	Name    string
	Pattern string
}

// Alarms is every alarm the central trail raises.
var Alarms = []Alarm{
	{"UnauthorizedApiCalls", `{ ($.errorCode = "*UnauthorizedOperation") || ($.errorCode = "AccessDenied*") }`},
	{"ConsoleSignInWithoutMfa", `{ ($.eventName = "ConsoleLogin") && ($.additionalEventData.MFAUsed != "Yes") && ($.responseElements.ConsoleLogin = "Success") }`},
	{"RootAccountUsage", `{ $.userIdentity.type = "Root" && $.userIdentity.invokedBy NOT EXISTS && $.eventType != "AwsServiceEvent" }`},
	{"IamPolicyChanges", `{ ($.eventSource = iam.amazonaws.com) && (($.eventName = DeleteGroupPolicy) || ($.eventName = DeleteRolePolicy) || ($.eventName = DeleteUserPolicy) || ($.eventName = PutGroupPolicy) || ($.eventName = PutRolePolicy) || ($.eventName = PutUserPolicy) || ($.eventName = CreatePolicy) || ($.eventName = DeletePolicy) || ($.eventName = CreatePolicyVersion) || ($.eventName = DeletePolicyVersion) || ($.eventName = AttachRolePolicy) || ($.eventName = DetachRolePolicy) || ($.eventName = AttachUserPolicy) || ($.eventName = DetachUserPolicy) || ($.eventName = AttachGroupPolicy) || ($.eventName = DetachGroupPolicy) || ($.eventName = UpdateAssumeRolePolicy)) }`},
	{"CloudTrailChanges", `{ ($.eventSource = cloudtrail.amazonaws.com) && (($.eventName = CreateTrail) || ($.eventName = UpdateTrail) || ($.eventName = DeleteTrail) || ($.eventName = StartLogging) || ($.eventName = StopLogging) || ($.eventName = PutEventSelectors)) }`},
	{"KmsKeyDisabledOrScheduledForDeletion", `{ ($.eventSource = kms.amazonaws.com) && (($.eventName = DisableKey) || ($.eventName = ScheduleKeyDeletion) || ($.eventName = DisableKeyRotation) || ($.eventName = PutKeyPolicy)) }`},
	{"S3BucketPolicyChanges", `{ ($.eventSource = s3.amazonaws.com) && (($.eventName = PutBucketAcl) || ($.eventName = PutBucketPolicy) || ($.eventName = DeleteBucketPolicy) || ($.eventName = PutBucketPublicAccessBlock) || ($.eventName = DeleteBucketPublicAccessBlock) || ($.eventName = PutBucketCors) || ($.eventName = PutBucketReplication) || ($.eventName = PutBucketEncryption) || ($.eventName = DeleteBucketEncryption)) }`},
	{"NetworkGatewayChanges", `{ ($.eventName = CreateCustomerGateway) || ($.eventName = DeleteCustomerGateway) || ($.eventName = AttachInternetGateway) || ($.eventName = CreateInternetGateway) || ($.eventName = DeleteInternetGateway) || ($.eventName = DetachInternetGateway) || ($.eventName = CreateNatGateway) || ($.eventName = DeleteNatGateway) || ($.eventName = CreateVpnConnection) || ($.eventName = DeleteVpnConnection) }`},
	{"RouteTableChanges", `{ ($.eventSource = ec2.amazonaws.com) && (($.eventName = CreateRoute) || ($.eventName = CreateRouteTable) || ($.eventName = ReplaceRoute) || ($.eventName = ReplaceRouteTableAssociation) || ($.eventName = DeleteRouteTable) || ($.eventName = DeleteRoute) || ($.eventName = DisassociateRouteTable) || ($.eventName = AssociateRouteTable)) }`},
	{"NetworkAclChanges", `{ ($.eventName = CreateNetworkAcl) || ($.eventName = CreateNetworkAclEntry) || ($.eventName = DeleteNetworkAcl) || ($.eventName = DeleteNetworkAclEntry) || ($.eventName = ReplaceNetworkAclEntry) || ($.eventName = ReplaceNetworkAclAssociation) }`},
	{"SecurityGroupChanges", `{ ($.eventName = AuthorizeSecurityGroupIngress) || ($.eventName = AuthorizeSecurityGroupEgress) || ($.eventName = RevokeSecurityGroupIngress) || ($.eventName = RevokeSecurityGroupEgress) || ($.eventName = CreateSecurityGroup) || ($.eventName = DeleteSecurityGroup) || ($.eventName = ModifySecurityGroupRules) }`},
	{"TransitGatewayChanges", `{ ($.eventSource = ec2.amazonaws.com) && (($.eventName = CreateTransitGateway*) || ($.eventName = DeleteTransitGateway*) || ($.eventName = ModifyTransitGateway*) || ($.eventName = AcceptTransitGateway*) || ($.eventName = RejectTransitGateway*) || ($.eventName = AssociateTransitGatewayRouteTable) || ($.eventName = DisassociateTransitGatewayRouteTable) || ($.eventName = EnableTransitGatewayRouteTablePropagation) || ($.eventName = DisableTransitGatewayRouteTablePropagation) || ($.eventName = ReplaceTransitGatewayRoute)) }`},
	// An account's administrators can stop the flow logs and sessions that
	// reach the log-archive account, or shorten what the account keeps of
	// them: the copies already made stay, and this says that the next
	// ones will not come (ISE 8.1).
	{"LogDeliveryChanges", `{ (($.eventSource = ec2.amazonaws.com) && ($.eventName = DeleteFlowLogs)) || (($.eventSource = logs.amazonaws.com) && (($.eventName = DeleteLogGroup) || ($.eventName = DeleteLogStream) || ($.eventName = PutRetentionPolicy) || ($.eventName = DeleteRetentionPolicy) || ($.eventName = DisassociateKmsKey))) || (($.eventSource = ssm.amazonaws.com) && (($.eventName = UpdateDocument) || ($.eventName = UpdateDocumentDefaultVersion) || ($.eventName = DeleteDocument))) }`},
	{"VpcChanges", `{ ($.eventName = CreateVpc) || ($.eventName = DeleteVpc) || ($.eventName = ModifyVpcAttribute) || ($.eventName = CreateVpcPeeringConnection) || ($.eventName = AcceptVpcPeeringConnection) || ($.eventName = DeleteVpcPeeringConnection) || ($.eventName = CreateVpcEndpoint) || ($.eventName = ModifyVpcEndpoint) || ($.eventName = DeleteVpcEndpoints) || ($.eventName = AssociateVpcCidrBlock) || ($.eventName = DisassociateVpcCidrBlock) }`},
}
