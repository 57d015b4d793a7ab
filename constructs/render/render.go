// Package render creates the burst-render launch templates, the role render
// nodes run as, and the role the studio's scheduler launches them with
// (ISE 4.1, 4.2, 7.1, 10.8, 10.9).
package render

import (
	_ "embed"
	"fmt"
	"maps"
	"net/netip"
	"slices"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsssm"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/renderenv/renderenv/constructs/storage"
	"github.com/renderenv/renderenv/internal/names"
)

//go:embed userdata.sh
var userData string

// Profile is one resolved render profile.
type Profile struct {
	Name             string
	Ami              string // ssm:/path or ami-...
	InstanceTypes    []string
	Spot             bool
	RootVolumeGiB    int
	ScratchVolumeGiB int // 0: none
	// RootDevice is the AMI's root device name, e.g. /dev/xvda or
	// /dev/sda1: the encrypted root volume is mapped onto it.
	RootDevice string
}

// FleetProps configures a production's render nodes.
type FleetProps struct {
	Prefix  string // <studio>-<production>
	Account string
	Region  string
	Vpc     awsec2.IVpc
	// VpcCidr is the network's CIDR, where the interface endpoints answer.
	VpcCidr netip.Prefix
	// StorageCidrs are the storage tier's subnets.
	StorageCidrs   []string
	ManagementCidr netip.Prefix
	SchedulerPorts []int
	LicensePorts   []int
	// WorkerPorts are the ports the scheduler opens to render nodes; none
	// by default, so nothing can connect to a render node.
	WorkerPorts []int
	// S3PrefixList is the region's S3 prefix list (the gateway endpoint).
	S3PrefixList  *string
	RootKey       awskms.IKey
	AssetKey      awskms.IKey
	LoggingKey    awskms.IKey
	BucketArn     *string
	SchedulerAcct string
	// Launchers are the only roles of SchedulerAcct that may assume the
	// launcher: the network stack's scheduler role and any the studio
	// names. Never the whole account.
	Launchers []string
	// VpcArn is the VPC render nodes launch into (ec2:Vpc of the subnet).
	VpcArn   *string
	RoleName string
	Profiles []Profile
	Tags     map[string]string
	// Archive, when set, also uploads every session log to the
	// log-archive account, where the production's administrators cannot
	// delete it.
	Archive *SessionArchive
	// Closed removes the compute of a closing production (ISE 6.2): no
	// launch template, so no instance profile, and no launcher role, so
	// nothing in the estate can start a node or pass the render role. The
	// render role, its group and its log groups stay until the stack is
	// destroyed: the role then has no instance profile to reach it.
	Closed bool
}

// SessionArchive is the production's prefix of the log-archive bucket and
// the log-archive account's logging key that encrypts it.
type SessionArchive struct {
	Bucket  string
	Prefix  string // sessions/<account>/<production>, no trailing slash
	Account string // the log-archive account, which owns the key
	// KeyAlias names the logging key (alias/...): its id is not known
	// where this stack is synthesized.
	KeyAlias string
}

// Fleet is the render side of a production.
type Fleet struct {
	constructs.Construct
	Role            awsiam.Role
	Group           awsec2.SecurityGroup
	LaunchTemplates map[string]awsec2.LaunchTemplate
	// Launcher is nil when the production is closing.
	Launcher        awsiam.Role
	LogGroup        awslogs.LogGroup
	SessionLogGroup awslogs.LogGroup
}

// NewFleet creates the render role, security group, launch templates,
// launcher role and Session Manager logging.
func NewFleet(scope constructs.Construct, id string, props FleetProps) *Fleet {
	c := constructs.NewConstruct(scope, jsii.String(id))
	f := &Fleet{Construct: c, LaunchTemplates: map[string]awsec2.LaunchTemplate{}}
	f.LogGroup = logGroup(c, "RenderLogs", "/"+props.Prefix+"/render", props.LoggingKey)
	f.SessionLogGroup = logGroup(c, "SessionLogs", "/"+props.Prefix+"/sessions", props.LoggingKey)
	f.role(c, props)
	f.group(c, props)
	if !props.Closed {
		for _, p := range props.Profiles {
			f.LaunchTemplates[p.Name] = f.template(c, props, p)
		}
		f.launcher(c, props)
	}
	f.sessions(c, props)
	return f
}

func logGroup(scope constructs.Construct, id, name string, key awskms.IKey) awslogs.LogGroup {
	return awslogs.NewLogGroup(scope, jsii.String(id), &awslogs.LogGroupProps{
		LogGroupName:  jsii.String(name),
		EncryptionKey: key,
		Retention:     awslogs.RetentionDays_ONE_YEAR,
		RemovalPolicy: awscdk.RemovalPolicy_RETAIN,
	})
}

// role is least privilege for a render node: Session Manager, its own log
// group, its own asset bucket, the asset key only through S3; a permissions
// boundary caps it at the same so nothing attached later can widen it.
func (f *Fleet) role(c constructs.Construct, props FleetProps) {
	allowed := []awsiam.PolicyStatement{
		awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:       jsii.String("WriteOwnLogs"),
			Actions:   jsii.Strings("logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"),
			Resources: &[]*string{f.LogGroup.LogGroupArn(), jsii.String(*f.LogGroup.LogGroupArn() + ":*"), f.SessionLogGroup.LogGroupArn(), jsii.String(*f.SessionLogGroup.LogGroupArn() + ":*")},
		}),
		// With session encryption on, the SSM Agent checks that the session
		// log group is encrypted before it opens a session.
		awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:       jsii.String("SeeLogGroupEncryption"),
			Actions:   jsii.Strings("logs:DescribeLogGroups"),
			Resources: jsii.Strings(fmt.Sprintf("arn:aws:logs:%s:%s:log-group:*", props.Region, props.Account)),
		}),
		awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:       jsii.String("SessionLogsEncryption"),
			Actions:   jsii.Strings("kms:GenerateDataKey", "kms:Decrypt"),
			Resources: &[]*string{props.LoggingKey.KeyArn()},
		}),
	}
	allowed = append(allowed, storage.ObjectAccess(props.BucketArn, props.AssetKey.KeyArn(), props.Region)...)
	allowed = append(allowed, archiveSessions(props)...)
	ssm := awsiam.ManagedPolicy_FromAwsManagedPolicyName(jsii.String("AmazonSSMManagedInstanceCore"))
	boundary := awsiam.NewManagedPolicy(c, jsii.String("RenderBoundary"), &awsiam.ManagedPolicyProps{
		ManagedPolicyName: jsii.String(props.RoleName + "-boundary"),
		Description:       jsii.String(props.Prefix + ": the most a render node may ever do"),
		Statements: withStatements(
			awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
				Sid:       jsii.String("SessionManagerAndTags"),
				Actions:   jsii.Strings(SessionManagerActions...),
				Resources: jsii.Strings("*"),
			}), allowed),
	})
	f.Role = awsiam.NewRole(c, jsii.String("Role"), &awsiam.RoleProps{
		RoleName:            jsii.String(props.RoleName),
		Description:         jsii.String(props.Prefix + ": render nodes"),
		AssumedBy:           awsiam.NewServicePrincipal(jsii.String("ec2.amazonaws.com"), nil),
		ManagedPolicies:     &[]awsiam.IManagedPolicy{ssm},
		PermissionsBoundary: boundary,
		InlinePolicies: &map[string]awsiam.PolicyDocument{
			"render": awsiam.NewPolicyDocument(&awsiam.PolicyDocumentProps{Statements: &allowed}),
		},
	})
	KeepBoundary(f.Role, boundary)
}

// KeepBoundary makes a role keep its own boundary where the app gives every
// role the bootstrap's (@aws-cdk/core:permissionsBoundary, which the CDK
// applies over a role's own): a node's boundary is the tighter one, and the
// bootstrap's admits it (a boundary of the estate's own, <studio>-*).
func KeepBoundary(role awsiam.Role, boundary awsiam.IManagedPolicy) {
	awsiam.PermissionsBoundary_Of(role).Apply(boundary)
}

// SessionManagerActions are what SSM Agent needs on an instance for Session
// Manager and the instance's tags: the most a node's boundary lets it do
// with Systems Manager.
var SessionManagerActions = []string{
	"ssm:UpdateInstanceInformation", "ssm:ListInstanceAssociations", "ssm:DescribeAssociation", "ssm:GetDocument", "ssm:DescribeDocument", "ssm:GetParameter", "ssm:GetParameters", "ssm:GetManifest", "ssm:PutInventory", "ssm:PutComplianceItems", "ssm:PutConfigurePackageResult", "ssm:UpdateAssociationStatus", "ssm:UpdateInstanceAssociationStatus", "ssm:GetDeployablePatchSnapshotForInstance", "ssmmessages:CreateControlChannel", "ssmmessages:CreateDataChannel", "ssmmessages:OpenControlChannel", "ssmmessages:OpenDataChannel",
	"ec2messages:AcknowledgeMessage", "ec2messages:DeleteMessage", "ec2messages:FailMessage", "ec2messages:GetEndpoint", "ec2messages:GetMessages", "ec2messages:SendReply", "ec2:DescribeTags",
}

// group lets a render node reach the scheduler and license ports in
// management, the endpoints, S3 and storage, and nothing else; nothing may
// connect to it except the scheduler on its worker ports. No SSH or RDP.
func (f *Fleet) group(c constructs.Construct, props FleetProps) {
	f.Group = awsec2.NewSecurityGroup(c, jsii.String("Group"), &awsec2.SecurityGroupProps{
		Vpc:              props.Vpc,
		Description:      jsii.String(props.Prefix + " render nodes"),
		AllowAllOutbound: jsii.Bool(false),
	})
	mgmt := awsec2.Peer_Ipv4(jsii.String(props.ManagementCidr.String()))
	for _, p := range props.SchedulerPorts {
		f.Group.AddEgressRule(mgmt, awsec2.Port_Tcp(jsii.Number(float64(p))), jsii.Sprintf("scheduler TLS %d", p), nil)
	}
	for _, p := range props.LicensePorts {
		f.Group.AddEgressRule(mgmt, awsec2.Port_Tcp(jsii.Number(float64(p))), jsii.Sprintf("license %d", p), nil)
	}
	f.Group.AddEgressRule(awsec2.Peer_Ipv4(jsii.String(props.VpcCidr.String())), awsec2.Port_Tcp(jsii.Number(443)), jsii.String("interface endpoints"), nil)
	f.Group.AddEgressRule(awsec2.Peer_PrefixList(props.S3PrefixList), awsec2.Port_Tcp(jsii.Number(443)), jsii.String("S3 through the gateway endpoint"), nil)
	for _, s := range props.StorageCidrs {
		f.Group.AddEgressRule(awsec2.Peer_Ipv4(jsii.String(s)), awsec2.Port_AllTcp(), jsii.String("storage tier"), nil)
	}
	for _, p := range props.WorkerPorts {
		f.Group.AddIngressRule(mgmt, awsec2.Port_Tcp(jsii.Number(float64(p))), jsii.Sprintf("scheduler to worker %d", p), nil)
	}
}

func (f *Fleet) template(c constructs.Construct, props FleetProps, p Profile) awsec2.LaunchTemplate {
	var image awsec2.IMachineImage
	if strings.HasPrefix(p.Ami, "ssm:") {
		// Resolved by CloudFormation at deploy time: synthesis looks nothing up.
		image = awsec2.MachineImage_FromSsmParameter(jsii.String(strings.TrimPrefix(p.Ami, "ssm:")), nil)
	} else {
		image = awsec2.MachineImage_GenericLinux(&map[string]*string{props.Region: jsii.String(p.Ami)}, nil)
	}
	devices := []*awsec2.BlockDevice{{
		DeviceName: jsii.String(p.RootDevice),
		Volume: awsec2.BlockDeviceVolume_Ebs(jsii.Number(float64(p.RootVolumeGiB)), &awsec2.EbsDeviceOptions{
			Encrypted: jsii.Bool(true), KmsKey: props.RootKey,
			VolumeType: awsec2.EbsDeviceVolumeType_GP3, DeleteOnTermination: jsii.Bool(true),
		}),
	}}
	if p.ScratchVolumeGiB > 0 {
		// Scratch holds content, so it is encrypted with the asset key, and
		// it dies with the instance (ISE 10.9).
		devices = append(devices, &awsec2.BlockDevice{
			DeviceName: jsii.String("/dev/sdb"),
			Volume: awsec2.BlockDeviceVolume_Ebs(jsii.Number(float64(p.ScratchVolumeGiB)), &awsec2.EbsDeviceOptions{
				Encrypted: jsii.Bool(true), KmsKey: props.AssetKey,
				VolumeType: awsec2.EbsDeviceVolumeType_GP3, DeleteOnTermination: jsii.Bool(true),
			}),
		})
	}
	ud := awsec2.UserData_Custom(jsii.String(strings.ReplaceAll(userData, "__LOG_GROUP__", "/"+props.Prefix+"/render")))
	lp := &awsec2.LaunchTemplateProps{
		LaunchTemplateName:       jsii.String(props.Prefix + "-" + p.Name),
		VersionDescription:       jsii.String("render profile " + p.Name),
		MachineImage:             image,
		InstanceType:             awsec2.NewInstanceType(jsii.String(p.InstanceTypes[0])),
		RequireImdsv2:            jsii.Bool(true),
		HttpTokens:               awsec2.LaunchTemplateHttpTokens_REQUIRED,
		HttpPutResponseHopLimit:  jsii.Number(1),
		InstanceMetadataTags:     jsii.Bool(true),
		AssociatePublicIpAddress: jsii.Bool(false),
		SecurityGroup:            f.Group,
		Role:                     f.Role,
		BlockDevices:             &devices,
		EbsOptimized:             jsii.Bool(true),
		// A node that shuts itself down is terminated, so its volumes and
		// their content go with it (ISE 10.9).
		InstanceInitiatedShutdownBehavior: awsec2.InstanceInitiatedShutdownBehavior_TERMINATE,
		DetailedMonitoring:                jsii.Bool(true),
		UserData:                          ud,
	}
	if p.Spot {
		lp.SpotOptions = &awsec2.LaunchTemplateSpotOptions{
			InterruptionBehavior: awsec2.SpotInstanceInterruption_TERMINATE,
			RequestType:          awsec2.SpotRequestType_ONE_TIME,
		}
	}
	lt := awsec2.NewLaunchTemplate(c, jsii.String("Template-"+p.Name), lp)
	var tags []map[string]string
	for _, k := range slices.Sorted(maps.Keys(props.Tags)) {
		tags = append(tags, map[string]string{"Key": k, "Value": props.Tags[k]})
	}
	tags = append(tags, map[string]string{"Key": "RenderProfile", "Value": p.Name})
	var specs []map[string]any
	types := []string{"instance", "volume", "network-interface"}
	if p.Spot {
		types = append(types, "spot-instances-request")
	}
	for _, t := range types {
		specs = append(specs, map[string]any{"ResourceType": t, "Tags": tags})
	}
	cfn := lt.Node().DefaultChild().(awsec2.CfnLaunchTemplate)
	cfn.AddPropertyOverride(jsii.String("LaunchTemplateData.TagSpecifications"), specs)
	return lt
}

// launcherPrincipal is who may assume the launcher: the named roles of
// the scheduler's account, matched by aws:PrincipalArn, never any other
// principal there.
func launcherPrincipal(props FleetProps) awsiam.IPrincipal {
	if len(props.Launchers) == 0 {
		panic("render: the launcher needs the roles that may assume it")
	}
	return awsiam.NewAccountPrincipal(jsii.String(props.SchedulerAcct)).WithConditions(&map[string]any{
		"ArnEquals": map[string]any{"aws:PrincipalArn": props.Launchers},
	})
}

// launcher is the role the scheduler in the management account assumes to
// start render nodes: only from this production's launch templates, only
// passing the render role, only tagging with the production's tags.
func (f *Fleet) launcher(c constructs.Construct, props FleetProps) {
	f.Launcher = awsiam.NewRole(c, jsii.String("Launcher"), &awsiam.RoleProps{
		RoleName:           jsii.String(names.Role(props.Prefix, names.Launcher)),
		Description:        jsii.String(props.Prefix + ": the render scheduler launches render nodes from this production's templates only"),
		AssumedBy:          launcherPrincipal(props),
		MaxSessionDuration: awscdk.Duration_Hours(jsii.Number(1)),
	})
	var arns []*string
	for _, name := range slices.Sorted(maps.Keys(f.LaunchTemplates)) {
		lt := f.LaunchTemplates[name]
		arns = append(arns, jsii.String(fmt.Sprintf("arn:aws:ec2:%s:%s:launch-template/%s", props.Region, props.Account, *lt.LaunchTemplateId())))
	}
	f.Launcher.AddToPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        jsii.String("LaunchFromOwnTemplatesOnly"),
		Actions:    jsii.Strings("ec2:RunInstances", "ec2:CreateFleet"),
		Resources:  jsii.Strings("*"),
		Conditions: &map[string]any{"ArnLike": map[string]any{"ec2:LaunchTemplate": arns}},
	}))
	f.Launcher.AddToPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:       jsii.String("UseOwnTemplates"),
		Actions:   jsii.Strings("ec2:RunInstances", "ec2:CreateFleet", "ec2:DescribeLaunchTemplateVersions"),
		Resources: &arns,
	}))
	f.hardenLaunches(props)
	// The templates tag every instance, volume and interface with the
	// production's tags (ISE 1.2); a launch cannot tag them as another's.
	tagged := map[string]any{"ec2:CreateAction": []string{"RunInstances", "CreateFleet"}}
	for _, k := range slices.Sorted(maps.Keys(props.Tags)) {
		tagged["aws:RequestTag/"+k] = props.Tags[k]
	}
	f.Launcher.AddToPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        jsii.String("TagOnlyAtLaunchWithProductionTags"),
		Actions:    jsii.Strings("ec2:CreateTags"),
		Resources:  jsii.Strings(fmt.Sprintf("arn:aws:ec2:%s:%s:*/*", props.Region, props.Account)),
		Conditions: &map[string]any{"StringEquals": tagged},
	}))
	// Volumes are encrypted with the production's keys, whose policies leave
	// EC2 use to IAM: the launcher may use them, through EC2 only.
	f.Launcher.AddToPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        jsii.String("EncryptVolumesThroughEc2"),
		Actions:    jsii.Strings("kms:Decrypt", "kms:DescribeKey", "kms:GenerateDataKeyWithoutPlaintext", "kms:ReEncryptFrom", "kms:ReEncryptTo"),
		Resources:  &[]*string{props.RootKey.KeyArn(), props.AssetKey.KeyArn()},
		Conditions: &map[string]any{"StringEquals": map[string]any{"kms:ViaService": fmt.Sprintf("ec2.%s.amazonaws.com", props.Region)}},
	}))
	f.Launcher.AddToPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:       jsii.String("GrantVolumesToEc2"),
		Actions:   jsii.Strings("kms:CreateGrant"),
		Resources: &[]*string{props.RootKey.KeyArn(), props.AssetKey.KeyArn()},
		Conditions: &map[string]any{
			"StringEquals": map[string]any{"kms:ViaService": fmt.Sprintf("ec2.%s.amazonaws.com", props.Region)},
			"Bool":         map[string]any{"kms:GrantIsForAWSResource": "true"},
		},
	}))
	f.Launcher.AddToPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        jsii.String("PassRenderRoleToEc2Only"),
		Actions:    jsii.Strings("iam:PassRole"),
		Resources:  &[]*string{f.Role.RoleArn()},
		Conditions: &map[string]any{"StringEquals": map[string]any{"iam:PassedToService": "ec2.amazonaws.com"}},
	}))
	f.Launcher.AddToPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        jsii.String("StopOwnNodes"),
		Actions:    jsii.Strings("ec2:TerminateInstances"),
		Resources:  jsii.Strings(fmt.Sprintf("arn:aws:ec2:%s:%s:instance/*", props.Region, props.Account)),
		Conditions: &map[string]any{"StringEquals": map[string]any{"aws:ResourceTag/Production": props.Tags["Production"]}},
	}))
	f.Launcher.AddToPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:       jsii.String("SeeFleetState"),
		Actions:   jsii.Strings("ec2:DescribeInstances", "ec2:DescribeInstanceStatus", "ec2:DescribeSpotInstanceRequests", "ec2:DescribeFleets", "ec2:DescribeFleetInstances", "ec2:DescribeSpotPriceHistory", "ec2:DescribeSubnets", "ec2:DescribeLaunchTemplates"),
		Resources: jsii.Strings("*"),
	}))
}

// hardenLaunches keeps a launch from overriding what the templates enforce:
// RunInstances and CreateFleet accept parameters that replace the
// template's, so the launcher is denied any launch that would carry a key
// pair, an unencrypted volume, a volume or image or security group the
// template does not name, optional IMDS tokens, a metadata hop limit above
// one, or a subnet outside the production's VPC (ISE 4.2, 10.8). The
// instance profile is bound by iam:PassRole (the render role only). User
// data has no IAM condition key: only the named scheduler roles may assume
// the launcher at all.
func (f *Fleet) hardenLaunches(props FleetProps) {
	launch := jsii.Strings("ec2:RunInstances", "ec2:CreateFleet")
	arn := func(kind string) *[]*string {
		return jsii.Strings(fmt.Sprintf("arn:aws:ec2:%s:%s:%s/*", props.Region, props.Account, kind))
	}
	for _, d := range []struct {
		sid       string
		resources *[]*string
		condition map[string]any
	}{
		{"NoKeyPairs", jsii.Strings(fmt.Sprintf("arn:aws:ec2:%s:%s:key-pair/*", props.Region, props.Account)), nil},
		{"NoUnencryptedVolumes", arn("volume"), map[string]any{"Bool": map[string]any{"ec2:Encrypted": "false"}}},
		{"Imdsv2Only", arn("instance"), map[string]any{"StringNotEquals": map[string]any{"ec2:MetadataHttpTokens": "required"}}},
		{"TemplateSecurityGroupsOnly", arn("security-group"), map[string]any{"Bool": map[string]any{"ec2:IsLaunchTemplateResource": "false"}}},
		// The template's image, and only its volumes (each encrypted with
		// the production's key): a launch that names another AMI, or adds
		// or overrides a volume (which would fall back to the account's
		// aws/ebs key), is refused.
		{"TemplateImageOnly", jsii.Strings(fmt.Sprintf("arn:aws:ec2:%s::image/*", props.Region)), map[string]any{"Bool": map[string]any{"ec2:IsLaunchTemplateResource": "false"}}},
		{"TemplateVolumesOnly", arn("volume"), map[string]any{"Bool": map[string]any{"ec2:IsLaunchTemplateResource": "false"}}},
		{"MetadataHopLimitOne", arn("instance"), map[string]any{"NumericGreaterThan": map[string]any{"ec2:MetadataHttpPutResponseHopLimit": "1"}}},
		{"ProductionSubnetsOnly", arn("subnet"), map[string]any{"ArnNotEquals": map[string]any{"ec2:Vpc": props.VpcArn}}},
	} {
		st := &awsiam.PolicyStatementProps{Sid: jsii.String(d.sid), Effect: awsiam.Effect_DENY, Actions: launch, Resources: d.resources}
		if d.condition != nil {
			st.Conditions = &d.condition
		}
		f.Launcher.AddToPolicy(awsiam.NewPolicyStatement(st))
	}
	// A template's instance type is only its default: a launch may name
	// another. Each profile's templates start only the types it lists.
	for _, p := range props.Profiles {
		lt := f.LaunchTemplates[p.Name]
		f.Launcher.AddToPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:       jsii.String("ListedInstanceTypesOnly" + names.Sid(p.Name)),
			Effect:    awsiam.Effect_DENY,
			Actions:   launch,
			Resources: arn("instance"),
			Conditions: &map[string]any{
				"ArnLike":         map[string]any{"ec2:LaunchTemplate": fmt.Sprintf("arn:aws:ec2:%s:%s:launch-template/%s", props.Region, props.Account, *lt.LaunchTemplateId())},
				"StringNotEquals": map[string]any{"ec2:InstanceType": p.InstanceTypes},
			},
		}))
	}
}

// sessions records every Session Manager session to the encrypted session
// log group and, with an archive, to the log-archive account (ISE 4.1,
// 8.1): start sessions with --document-name <prefix>-sessions.
func (f *Fleet) sessions(c constructs.Construct, props FleetProps) {
	awsssm.NewCfnDocument(c, jsii.String("SessionPreferences"), &awsssm.CfnDocumentProps{
		Name:           jsii.String(props.Prefix + "-sessions"),
		DocumentType:   jsii.String("Session"),
		DocumentFormat: jsii.String("JSON"),
		UpdateMethod:   jsii.String("NewVersion"),
		Content: map[string]any{
			"schemaVersion": "1.0",
			"description":   props.Prefix + " Session Manager sessions, logged and encrypted",
			"sessionType":   "Standard_Stream",
			"inputs":        f.sessionInputs(props),
		},
	})
}

// sessionInputs are the session document's inputs: the encrypted log
// group, and with an archive the production's prefix of the log-archive
// bucket, which SSM Agent uploads each session to when it ends.
func (f *Fleet) sessionInputs(props FleetProps) map[string]any {
	in := map[string]any{
		"cloudWatchLogGroupName":      *f.SessionLogGroup.LogGroupName(),
		"cloudWatchEncryptionEnabled": true,
		"cloudWatchStreamingEnabled":  true,
		"kmsKeyId":                    *props.LoggingKey.KeyArn(),
		"idleSessionTimeout":          "20",
		"runAsEnabled":                false,
	}
	if a := props.Archive; a != nil {
		in["s3BucketName"] = a.Bucket
		in["s3KeyPrefix"] = a.Prefix
		in["s3EncryptionEnabled"] = true
	}
	return in
}

// archiveSessions lets a render node upload its sessions to its own prefix
// of the log-archive bucket and nothing else: no reads, lists or deletes.
// The bucket's and key's policies name this role alone for that prefix.
func archiveSessions(props FleetProps) []awsiam.PolicyStatement {
	a := props.Archive
	if a == nil {
		return nil
	}
	bucket := "arn:aws:s3:::" + a.Bucket
	return []awsiam.PolicyStatement{
		awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid: jsii.String("ArchiveOwnSessions"),
			// SSM Agent uploads with the canned ACL bucket-owner-full-control,
			// which S3 authorizes as s3:PutObjectAcl too.
			Actions:   jsii.Strings("s3:PutObject", "s3:PutObjectAcl"),
			Resources: jsii.Strings(bucket + "/" + a.Prefix + "/*"),
		}),
		// SSM Agent checks the bucket encrypts by default (s3EncryptionEnabled).
		awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:       jsii.String("SeeArchiveEncryption"),
			Actions:   jsii.Strings("s3:GetEncryptionConfiguration"),
			Resources: jsii.Strings(bucket),
		}),
		// The logging key of the log-archive account, whose id this stack
		// cannot know: only the key behind its alias, only through S3, only
		// for objects of the archive bucket.
		awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:       jsii.String("EncryptArchivedSessionsThroughS3"),
			Actions:   jsii.Strings("kms:GenerateDataKey", "kms:Decrypt"),
			Resources: jsii.Strings(fmt.Sprintf("arn:aws:kms:%s:%s:key/*", props.Region, a.Account)),
			Conditions: &map[string]any{
				"StringEquals":             map[string]any{"kms:ViaService": fmt.Sprintf("s3.%s.amazonaws.com", props.Region)},
				"StringLike":               map[string]any{"kms:EncryptionContext:aws:s3:arn": []string{bucket, bucket + "/sessions/*"}},
				"ForAnyValue:StringEquals": map[string]any{"kms:ResourceAliases": a.KeyAlias},
			},
		}),
	}
}

func withStatements(first awsiam.PolicyStatement, rest []awsiam.PolicyStatement) *[]awsiam.PolicyStatement {
	all := append([]awsiam.PolicyStatement{first}, rest...)
	return &all
}
