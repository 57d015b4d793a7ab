package plan

// replacing lists, per resource type renderenv's templates hold, the
// properties whose update CloudFormation performs by replacing the resource
// ("Update requires: Replacement" in the type's page of the CloudFormation
// template reference,
// https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-template-resource-type-ref.html).
// A property not listed updates in place. Custom resources (Custom::*) are
// updated, and replaced only when their handler returns a new physical id,
// which a template cannot tell.
//
// Review this table against the reference when a type or property is added
// to the constructs; a type missing here is reported as changed, never as
// replaced.
var replacing = map[string][]string{
	"AWS::CloudTrail::Trail":                {"TrailName"},
	"AWS::CloudWatch::Alarm":                {"AlarmName"},
	"AWS::DataSync::LocationNFS":            {"ServerHostname"},
	"AWS::DataSync::LocationS3":             {"S3BucketArn", "S3Config", "S3StorageClass", "Subdirectory"},
	"AWS::DataSync::Task":                   {"DestinationLocationArn", "SourceLocationArn", "TaskMode"},
	"AWS::EC2::CustomerGateway":             {"BgpAsn", "IpAddress", "Type", "DeviceName", "CertificateArn"},
	"AWS::EC2::EIP":                         {"Domain", "NetworkBorderGroup", "PublicIpv4Pool", "IpamPoolId", "Address"},
	"AWS::EC2::FlowLog":                     {"DeliverCrossAccountRole", "DeliverLogsPermissionArn", "DestinationOptions", "LogDestination", "LogDestinationType", "LogFormat", "LogGroupName", "MaxAggregationInterval", "ResourceId", "ResourceType", "TrafficType"},
	"AWS::EC2::InternetGateway":             {},
	"AWS::EC2::LaunchTemplate":              {"LaunchTemplateName"},
	"AWS::EC2::NatGateway":                  {"AllocationId", "ConnectivityType", "PrivateIpAddress", "SubnetId"},
	"AWS::EC2::NetworkAcl":                  {"VpcId"},
	"AWS::EC2::NetworkAclEntry":             {"Egress", "NetworkAclId", "RuleNumber"},
	"AWS::EC2::Route":                       {"DestinationCidrBlock", "DestinationIpv6CidrBlock", "DestinationPrefixListId", "RouteTableId"},
	"AWS::EC2::RouteTable":                  {"VpcId"},
	"AWS::EC2::SecurityGroup":               {"GroupDescription", "GroupName", "VpcId"},
	"AWS::EC2::SecurityGroupEgress":         {"CidrIp", "CidrIpv6", "DestinationPrefixListId", "DestinationSecurityGroupId", "FromPort", "GroupId", "IpProtocol", "ToPort"},
	"AWS::EC2::SecurityGroupIngress":        {"CidrIp", "CidrIpv6", "FromPort", "GroupId", "GroupName", "IpProtocol", "SourcePrefixListId", "SourceSecurityGroupId", "SourceSecurityGroupName", "SourceSecurityGroupOwnerId", "ToPort"},
	"AWS::EC2::Subnet":                      {"AvailabilityZone", "AvailabilityZoneId", "CidrBlock", "Ipv4IpamPoolId", "Ipv4NetmaskLength", "OutpostArn", "VpcId"},
	"AWS::EC2::SubnetNetworkAclAssociation": {"NetworkAclId", "SubnetId"},
	"AWS::EC2::SubnetRouteTableAssociation": {"SubnetId"},
	"AWS::EC2::TransitGateway":              {"AmazonSideAsn", "MulticastSupport"},
	// SubnetIds updates in place; a VPC attachment's other properties do not.
	"AWS::EC2::TransitGatewayAttachment":            {"TransitGatewayId", "VpcId"},
	"AWS::EC2::TransitGatewayVpcAttachment":         {"SubnetIds", "TransitGatewayId", "VpcId"},
	"AWS::EC2::TransitGatewayRoute":                 {"Blackhole", "DestinationCidrBlock", "TransitGatewayAttachmentId", "TransitGatewayRouteTableId"},
	"AWS::EC2::TransitGatewayRouteTable":            {"TransitGatewayId"},
	"AWS::EC2::TransitGatewayRouteTableAssociation": {"TransitGatewayAttachmentId", "TransitGatewayRouteTableId"},
	"AWS::EC2::TransitGatewayRouteTablePropagation": {"TransitGatewayAttachmentId", "TransitGatewayRouteTableId"},
	"AWS::EC2::Volume":                              {"OutpostArn"},
	"AWS::EC2::VPC":                                 {"CidrBlock", "InstanceTenancy", "Ipv4IpamPoolId", "Ipv4NetmaskLength"},
	"AWS::EC2::VPCEndpoint":                         {"ServiceName", "VpcEndpointType", "VpcId"},
	"AWS::EC2::VPCGatewayAttachment":                {"VpcId"},
	// Changing a tunnel's options replaces the connection: new tunnel
	// addresses, and the customer gateway must be reconfigured.
	"AWS::EC2::VPNConnection":   {"CustomerGatewayId", "StaticRoutesOnly", "TransitGatewayId", "Type", "VpnGatewayId", "VpnTunnelOptionsSpecifications"},
	"AWS::IAM::InstanceProfile": {"InstanceProfileName", "Path"},
	"AWS::IAM::Policy":          {},
	"AWS::IAM::ManagedPolicy":   {"ManagedPolicyName", "Path"},
	"AWS::IAM::Role":            {"Path", "RoleName"},
	"AWS::KMS::Alias":           {"AliasName"},
	"AWS::KMS::Key":             {"KeySpec", "KeyUsage", "MultiRegion", "Origin"},
	"AWS::Lambda::Function":     {"FunctionName"},
	// KmsKeyId updates in place (CloudWatch Logs associates the new key).
	"AWS::Logs::LogGroup":                                         {"LogGroupClass", "LogGroupName"},
	"AWS::Logs::MetricFilter":                                     {"FilterName", "LogGroupName"},
	"AWS::Logs::ResourcePolicy":                                   {"PolicyName"},
	"AWS::RAM::ResourceShare":                                     {},
	"AWS::Route53Resolver::FirewallDomainList":                    {"Name"},
	"AWS::Route53Resolver::FirewallRuleGroup":                     {"Name"},
	"AWS::Route53Resolver::FirewallRuleGroupAssociation":          {"FirewallRuleGroupId", "VpcId"},
	"AWS::Route53Resolver::ResolverQueryLoggingConfig":            {"DestinationArn", "Name"},
	"AWS::Route53Resolver::ResolverQueryLoggingConfigAssociation": {"ResolverQueryLogConfigId", "ResourceId"},
	"AWS::S3::Bucket":                                             {"BucketName", "ObjectLockEnabled"},
	"AWS::S3::BucketPolicy":                                       {"Bucket"},
	"AWS::SNS::Subscription":                                      {"Endpoint", "Protocol", "TopicArn"},
	"AWS::SNS::Topic":                                             {"FifoTopic", "TopicName"},
	"AWS::SNS::TopicPolicy":                                       {},
	"AWS::SSM::Document":                                          {"DocumentType", "Name"},
	"AWS::SSM::Parameter":                                         {"Name"},
}

// stateful are the types whose replacement or removal loses data or
// breaks what depends on them: the data at rest and the keys that decrypt
// it, the audit trail and its logs, and the networks everything is
// attached to (replacing the Transit Gateway detaches every production).
// plan flags their replacement and removal (REPLACE, REMOVE) and exits 2.
var stateful = map[string]bool{
	"AWS::CloudTrail::Trail":   true,
	"AWS::EC2::TransitGateway": true,
	"AWS::EC2::Volume":         true,
	"AWS::EC2::VPC":            true,
	"AWS::KMS::Key":            true,
	"AWS::Logs::LogGroup":      true,
	"AWS::S3::Bucket":          true,
}
