package network_test

import (
	"net/netip"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/jsii-runtime-go"

	"github.com/renderenv/renderenv/constructs/network"
	"github.com/renderenv/renderenv/internal/cdktest"
)

func TestMain(m *testing.M) { cdktest.Main(m) }

const (
	region     = "us-west-2"
	management = "111111111111"
	production = "333333333333"
	params     = "/renderenv/acme"
	tgwID      = "tgw-0123456789abcdef0"
	readerArn  = "arn:aws:iam::333333333333:role/acme-nightfall-tgw-reader"
)

var (
	prodCidr    = netip.MustParsePrefix("10.20.0.0/16")
	smallCidr   = netip.MustParsePrefix("10.30.0.0/22")
	mgmtCidr    = netip.MustParsePrefix("10.0.0.0/16")
	onPrem      = []netip.Prefix{netip.MustParsePrefix("192.168.0.0/16")}
	private     = []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("172.16.0.0/12"), netip.MustParsePrefix("192.168.0.0/16")}
	license     = network.LicenseServer{Name: "houdini", Cidr: netip.MustParsePrefix("203.0.113.50/32"), Port: 1715}
	schedPorts  = []int{4433}
	workerPorts = []int{7000}
	endpoints   = []string{"ec2messages", "kms", "logs", "ssm", "ssmmessages", "sts"}
	bucketArn   = "arn:aws:s3:::acme-nightfall-assets-333333333333"
	// archiveBucket is the log-archive account's: Production and Hub copy
	// their flow logs there; Small and PlainHub have no log archive.
	archiveBucket = "acme-audit-archive-222222222222-us-west-2"
	dnsZones      = []string{"acme.internal"}
	shareWith     = []string{production, "444444444444"}
	attachTags    = map[string]string{"renderenv:studio": "acme", "renderenv:network": "acme-nightfall"}
)

// fixture is every stack this package's tests read, built in one App:
// the App synthesizes once, so all stacks exist before the first template.
type fixture struct {
	// Production is a ProductionVpc.
	Production assertions.Template
	// Hub has a VPN and shares inside an organization; PlainHub has
	// neither and shares outside one.
	Hub, PlainHub assertions.Template
	Link          assertions.Template
	// WorkerHub and WorkerLink open scheduler.workerPorts.
	WorkerHub, WorkerLink assertions.Template
	// Small is a ProductionVpc of the smallest size a manifest allows.
	Small assertions.Template
}

var shared cdktest.Once[*fixture]

func templates(t *testing.T) *fixture {
	t.Helper()
	return shared.Get(t, func() *fixture { return build(t) })
}

func build(t *testing.T) *fixture {
	mgmt := cdktest.Env{Account: management, Region: region}
	prod := cdktest.Env{Account: production, Region: region}
	app := cdktest.NewApp(t, mgmt, prod)

	ps := cdktest.AddStack(t, app, "Production", prod)
	network.NewProductionVpc(ps, "Network", network.ProductionVpcProps{
		Name:             "acme-nightfall",
		Cidr:             prodCidr,
		Zones:            cdktest.Zones(region),
		Account:          production,
		Region:           region,
		ManagementCidr:   mgmtCidr,
		OnPremCidrs:      onPrem,
		DenyCidrs:        private,
		TransitGatewayID: jsii.String(tgwID),
		AttachmentTags:   attachTags,
		FlowLogKey:       awskms.NewKey(ps, jsii.String("LogKey"), nil),
		FlowLogGroup:     "/acme-nightfall/flow-logs",
		Endpoints:        endpoints,
		BucketArns:       []string{bucketArn},
		DNSZones:         dnsZones,
		QueryLogGroup:    "/acme-nightfall/dns-queries",
		Archive:          network.ArchiveFlowLogs{Bucket: archiveBucket, Prefix: "flow-logs/"},
		SessionArchive:   archiveBucket,
	})
	network.NewAttachmentReader(ps, "acme-nightfall", management)

	small := cdktest.AddStack(t, app, "Small", prod)
	network.NewProductionVpc(small, "Network", network.ProductionVpcProps{
		Name: "acme-small", Cidr: smallCidr, Zones: cdktest.Zones(region), Account: production, Region: region,
		ManagementCidr: mgmtCidr, OnPremCidrs: onPrem, DenyCidrs: private, TransitGatewayID: jsii.String(tgwID),
		FlowLogKey: awskms.NewKey(small, jsii.String("LogKey"), nil), FlowLogGroup: "/acme-small/flow-logs",
		BucketArns: []string{"arn:aws:s3:::acme-small-assets"}, QueryLogGroup: "/acme-small/dns-queries",
	})

	hub := func(id string, vpn *network.Vpn, inside bool, workers []int) awscdk.Stack {
		s := cdktest.AddStack(t, app, id, mgmt)
		var archive network.ArchiveFlowLogs
		if id == "Hub" {
			archive = network.ArchiveFlowLogs{Bucket: archiveBucket, Prefix: "flow-logs/"}
		}
		network.NewHub(s, "Hub", network.HubProps{
			Studio:             "acme",
			Account:            management,
			Region:             region,
			Cidr:               mgmtCidr,
			Zones:              cdktest.Zones(region),
			Asn:                64512,
			OnPrem:             onPrem,
			Vpn:                vpn,
			PrivateRanges:      private,
			LicenseServers:     []network.LicenseServer{license},
			SchedulerPorts:     schedPorts,
			WorkerPorts:        workers,
			ShareWith:          shareWith,
			InsideOrganization: inside,
			Endpoints: network.Perimeter{
				Principals: map[string]any{"StringEquals": map[string]any{"aws:PrincipalOrgID": "o-a1b2c3d4e5"}},
				Resources:  map[string]any{"StringEquals": map[string]any{"aws:ResourceOrgID": "o-a1b2c3d4e5"}},
			},
			FlowLogKey:     awskms.NewKey(s, jsii.String("LogKey"), nil),
			FlowLogGroup:   "/acme/management/flow-logs",
			FlowLogArchive: archive,
			Parameters:     params,
		})
		return s
	}
	hs := hub("Hub", &network.Vpn{CustomerGatewayIP: "203.0.113.10", BgpAsn: 65000}, true, nil)
	plain := hub("PlainHub", nil, false, nil)
	wh := hub("WorkerHub", nil, true, workerPorts)

	link := func(id string, workers []int) awscdk.Stack {
		ls := cdktest.AddStack(t, app, id, mgmt)
		network.NewLink(ls, "Link", network.LinkProps{
			Owner:          "acme-nightfall",
			Parameters:     params,
			ReaderRoleArn:  readerArn,
			AttachmentTags: attachTags,
			Cidr:           prodCidr,
			SchedulerPorts: schedPorts,
			LicensePorts:   []int{license.Port},
			WorkerPorts:    workers,
		})
		return ls
	}
	ls, wl := link("Link", nil), link("WorkerLink", workerPorts)

	return &fixture{
		Production: cdktest.Template(t, ps),
		Hub:        cdktest.Template(t, hs),
		PlainHub:   cdktest.Template(t, plain),
		Link:       cdktest.Template(t, ls),
		WorkerHub:  cdktest.Template(t, wh),
		WorkerLink: cdktest.Template(t, wl),
		Small:      cdktest.Template(t, small),
	}
}
