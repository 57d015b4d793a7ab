package render_test

import (
	"net/netip"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/jsii-runtime-go"

	"github.com/renderenv/renderenv/constructs/keys"
	"github.com/renderenv/renderenv/constructs/render"
	"github.com/renderenv/renderenv/internal/cdktest"
	"github.com/renderenv/renderenv/internal/names"
)

func TestMain(m *testing.M) { cdktest.Main(m) }

const (
	account    = "333333333333"
	management = "111111111111"
	region     = "us-west-2"
	prefix     = "acme-nightfall"
	roleName   = "acme-nightfall-render"
	// schedulerRole is the scheduler's own role in the management account.
	schedulerRole = "arn:aws:iam::111111111111:role/acme-render-scheduler"
	// networkScheduler is the network stack's scheduler role.
	networkScheduler = "arn:aws:iam::111111111111:role/acme-scheduler"
	vpcArn           = "arn:aws:ec2:us-west-2:333333333333:vpc/vpc-0123456789abcdef0"
	prefixList       = "pl-68a54001"
	bucketArn        = "arn:aws:s3:::acme-nightfall-assets"
	archiveBucket    = "acme-audit-archive-222222222222-us-west-2"
	logArchive       = "222222222222"
)

var (
	vpcCidr      = netip.MustParsePrefix("10.20.0.0/16")
	mgmtCidr     = netip.MustParsePrefix("10.0.0.0/16")
	storageCidrs = []string{"10.20.96.0/20", "10.20.112.0/20"}
	schedPorts   = []int{4433}
	licensePorts = []int{1715}
	workerPorts  = []int{7000}
	tags         = map[string]string{
		"Studio": "acme", "Production": "nightfall", "Tier": "1", "CostCentre": "CC-1001", "ResourceGroup": "render-instance",
	}
	// spot has a scratch volume; onDemand has none, and the root device of
	// an Ubuntu or RHEL AMI.
	spot = render.Profile{Name: "default", Ami: "ssm:/acme/render/ami", InstanceTypes: []string{"c6i.32xlarge", "m6i.32xlarge"}, Spot: true, RootVolumeGiB: 100, ScratchVolumeGiB: 500, RootDevice: "/dev/xvda"}
	// archive is the log-archive account's copy of the sessions: Fleet
	// writes there, Workers (a studio without a log archive) does not.
	archive  = render.SessionArchive{Bucket: archiveBucket, Prefix: "sessions/333333333333/nightfall", Account: logArchive, KeyAlias: "alias/acme/audit/logging"}
	onDemand = render.Profile{Name: "preview", Ami: "ami-0123456789abcdef0", InstanceTypes: []string{"m6i.4xlarge"}, Spot: false, RootVolumeGiB: 50, RootDevice: "/dev/sda1"}
)

// fixture: one App. Fleet is a production's fleet with the production's
// key set; Workers is the same with scheduler worker ports and a named
// scheduler role as the only launcher; Closed is Fleet of a closing
// production.
type fixture struct {
	Fleet, Workers, Closed assertions.Template
}

var shared cdktest.Once[*fixture]

func templates(t *testing.T) *fixture {
	t.Helper()
	return shared.Get(t, func() *fixture {
		env := cdktest.Env{Account: account, Region: region}
		app := cdktest.NewApp(t, env)
		fleet := build(t, app, "Fleet", env, nil, []string{networkScheduler}, &archive, false)
		workers := build(t, app, "Workers", env, workerPorts, []string{schedulerRole}, nil, false)
		closed := build(t, app, "Closed", env, nil, []string{networkScheduler}, &archive, true)
		return &fixture{Fleet: cdktest.Template(t, fleet), Workers: cdktest.Template(t, workers), Closed: cdktest.Template(t, closed)}
	})
}

func build(t *testing.T, app awscdk.App, id string, env cdktest.Env, worker []int, launchers []string, archive *render.SessionArchive, closed bool) awscdk.Stack {
	s := cdktest.AddStack(t, app, id, env)
	vpc := awsec2.NewVpc(s, jsii.String("Vpc"), &awsec2.VpcProps{
		IpAddresses:           awsec2.IpAddresses_Cidr(jsii.String(vpcCidr.String())),
		AvailabilityZones:     jsii.Strings(cdktest.Zones(region)...),
		NatGateways:           jsii.Number(0),
		CreateInternetGateway: jsii.Bool(false),
		SubnetConfiguration: &[]*awsec2.SubnetConfiguration{
			{Name: jsii.String("render"), SubnetType: awsec2.SubnetType_PRIVATE_ISOLATED, CidrMask: jsii.Number(18)},
		},
	})
	// The production's keys, as the estate makes them: the render role is an
	// asset user and a session host, the log reader the only one who
	// decrypts logs.
	set := keys.NewKeySet(s, "Keys", keys.KeySetProps{
		AliasPrefix: "acme/nightfall",
		Owner:       prefix,
		Account:     account,
		Region:      region,
		Purposes:    []keys.Purpose{keys.RootVolume, keys.ContentAsset, keys.Logging},
		AssetUsers:  []string{names.RoleArn(account, prefix+"-data-operator"), names.RoleArn(account, roleName)},
		LogReaders:  []string{names.RoleArn(account, prefix+"-log-reader")},
		// Render nodes decrypt Session Manager sessions that people start.
		SessionHosts:    []string{names.RoleArn(account, roleName)},
		SessionStarters: []string{names.RoleArn(account, prefix+"-data-operator")},
		Admins:          []string{names.RoleArn(account, prefix+"-key-admin"), keys.DeploymentRole(keys.DefaultQualifier, account, region)},
	})
	render.NewFleet(s, "Render", render.FleetProps{
		Prefix:         prefix,
		Account:        account,
		Region:         region,
		Vpc:            vpc,
		VpcCidr:        vpcCidr,
		StorageCidrs:   storageCidrs,
		ManagementCidr: mgmtCidr,
		SchedulerPorts: schedPorts,
		LicensePorts:   licensePorts,
		WorkerPorts:    worker,
		Launchers:      launchers,
		VpcArn:         jsii.String(vpcArn),
		S3PrefixList:   jsii.String(prefixList),
		RootKey:        set[keys.RootVolume].Key,
		AssetKey:       set[keys.ContentAsset].Key,
		LoggingKey:     set[keys.Logging].Key,
		BucketArn:      jsii.String(bucketArn),
		SchedulerAcct:  management,
		RoleName:       roleName,
		Profiles:       []render.Profile{spot, onDemand},
		Tags:           tags,
		Archive:        archive,
		Closed:         closed,
	})
	return s
}
