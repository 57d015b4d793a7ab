// Package manifest reads, decodes and validates the studio and production
// manifests. Everything here is plain Go: the CDK code only ever sees an
// Estate that has passed Validate.
package manifest

import (
	"net/netip"
	"strings"
	"time"
)

// Studio is productions/studio.yaml: what every production shares.
type Studio struct {
	Studio string `yaml:"studio"`
	// Owner is who answers for the shared stacks (the Owner tag, ISE 1.2);
	// default the studio's name.
	Owner             string   `yaml:"owner"`
	Region            string   `yaml:"region"`
	AvailabilityZones []string `yaml:"availabilityZones"`
	ManagementAccount string   `yaml:"managementAccount"`
	LogArchiveAccount string   `yaml:"logArchiveAccount"`
	OrganizationID    string   `yaml:"organizationId"`
	// OrganizationManagementAccount is the organization's management
	// account, which names the organization in AWS RAM; required with
	// OrganizationID, and never an account of the estate: no SCP applies
	// to it.
	OrganizationManagementAccount string         `yaml:"organizationManagementAccount"`
	ManagementVpcCidr             netip.Prefix   `yaml:"managementVpcCidr"`
	OnPremises                    OnPremises     `yaml:"onPremises"`
	TransitGatewayAsn             int64          `yaml:"transitGatewayAsn"`
	TransitGatewayID              string         `yaml:"transitGatewayId"`
	AdminSourceCidrs              []netip.Prefix `yaml:"adminSourceCidrs"`
	// BreakGlassRole is the name of a role present in every account of the
	// estate that may administer every key when the key administrators
	// cannot (ISE 9.2); none by default.
	BreakGlassRole string `yaml:"breakGlassRole"`
	// People are who may assume the people roles (see People).
	People         StudioPeople    `yaml:"people"`
	LicenseServers []LicenseServer `yaml:"licenseServers"`
	Scheduler      Scheduler       `yaml:"scheduler"`
	Pools          []Pool          `yaml:"pools"`
	Alerts         Alerts          `yaml:"alerts"`
	Audit          StudioAudit     `yaml:"audit"`
	Pipeline       Pipeline        `yaml:"pipeline"`
	// Retired are the productions that were closed (see Retired).
	Retired []Retired `yaml:"retired"`
	// ExchangeAccount holds the productions' vendor exchange buckets and
	// vendor roles, apart from every production, so that nothing a vendor
	// may assume lives in an account that holds content (see Vendor).
	ExchangeAccount string `yaml:"exchangeAccount"`
	// Deployers are the management account's roles (ARNs) that may assume
	// the CDK bootstrap roles (deploy, file and image publishing, lookup)
	// of every account of the estate; `renderenv bootstrap` refuses to run
	// until it names someone, so that no bootstrap trusts a whole account.
	Deployers []string `yaml:"deployers"`
}

// BootstrapQualifier is the CDK bootstrap qualifier of the studio's
// accounts: its name without hyphens, at most 10 characters (the CDK's
// limit; lower case, as it names S3 buckets). A bootstrap of its own per
// studio: another CDK app's default-qualifier deployments never use the
// studio's deployers, execution policy or boundary.
func (s *Studio) BootstrapQualifier() string {
	q := strings.ReplaceAll(s.Studio, "-", "")
	return q[:min(len(q), 10)]
}

// SharedOwner is the Owner tag of the studio's shared stacks.
func (s *Studio) SharedOwner() string {
	if s.Owner != "" {
		return s.Owner
	}
	return s.Studio
}

// OnPremises is the studio's own network, reached over the Transit Gateway.
type OnPremises struct {
	Cidrs []netip.Prefix `yaml:"cidrs"`
	Vpn   *Vpn           `yaml:"vpn"`
	// DNSZones are the studio's own DNS names (zones such as
	// studio.internal, or single names such as scheduler.studio.com) that
	// production networks may resolve, with every name below them, beside
	// the AWS names their endpoints need. The DNS Firewall blocks the rest.
	DNSZones []string `yaml:"dnsZones"`
}

// Vpn is an optional site-to-site IPsec VPN from the Transit Gateway.
type Vpn struct {
	CustomerGatewayIP netip.Addr `yaml:"customerGatewayIp"`
	BgpAsn            int64      `yaml:"bgpAsn"`
}

// LicenseServer is one internet license endpoint the management VPC may reach.
type LicenseServer struct {
	Name string       `yaml:"name"`
	Cidr netip.Prefix `yaml:"cidr"`
	Port int64        `yaml:"port"`
}

// Scheduler describes the render scheduler in the management VPC.
type Scheduler struct {
	Ports []int64 `yaml:"ports"`
	// WorkerPorts are ports the scheduler connects to on render nodes; none
	// by default, so nothing may connect to a render node.
	WorkerPorts []int64 `yaml:"workerPorts"`
	// Launchers are the management account's roles (ARNs) that may assume
	// each production's launcher role; none means any principal of the
	// management account that IAM lets assume it.
	Launchers []string `yaml:"launchers"`
}

// Pool is the shared VPC and key set of the Tier 3 productions of one account
// and region that ask for nothing dedicated.
type Pool struct {
	Account           string       `yaml:"account"`
	Region            string       `yaml:"region"`
	VpcCidr           netip.Prefix `yaml:"vpcCidr"`
	AvailabilityZones []string     `yaml:"availabilityZones"`
}

// StudioAudit configures the central trail.
type StudioAudit struct {
	// TrailRetentionDays locks the trail's log files (Object Lock,
	// COMPLIANCE mode) for that many days; default DefaultTrailRetention.
	TrailRetentionDays int64 `yaml:"trailRetentionDays"`
}

// DefaultTrailRetention is a year of locked audit logs.
const DefaultTrailRetention = 365

// TrailRetention is how long the trail's log files are locked.
func (s *Studio) TrailRetention() int {
	if s.Audit.TrailRetentionDays == 0 {
		return DefaultTrailRetention
	}
	return int(s.Audit.TrailRetentionDays)
}

// Alerts says where security alarms are delivered.
type Alerts struct {
	Emails []string `yaml:"emails"`
}

// Pipeline turns on the optional CDK Pipelines delivery stack.
type Pipeline struct {
	Enabled    bool   `yaml:"enabled"`
	Connection string `yaml:"connectionArn"`
	Repository string `yaml:"repository"`
	Branch     string `yaml:"branch"`
	// Approvers are the only principals whose approvals release a change
	// (see Studio.PipelineApprovers); a people list as in People.
	Approvers []string `yaml:"approvers"`
}

// Production is productions/<name>.yaml.
type Production struct {
	Name              string                   `yaml:"name"`
	Tier              int64                    `yaml:"tier"`
	Account           string                   `yaml:"account"`
	Region            string                   `yaml:"region"`
	AvailabilityZones []string                 `yaml:"availabilityZones"`
	VpcCidr           netip.Prefix             `yaml:"vpcCidr"`
	CostCentre        string                   `yaml:"costCentre"`
	Owner             string                   `yaml:"owner"`
	StartDate         Date                     `yaml:"startDate"`
	EndDate           Date                     `yaml:"endDate"`
	Render            RenderProfile            `yaml:"render"`
	RenderProfiles    map[string]RenderProfile `yaml:"renderProfiles"`
	Endpoints         []string                 `yaml:"endpoints"`
	Isolation         Isolation                `yaml:"isolation"`
	Audit             Audit                    `yaml:"audit"`
	// People override the studio's people lists for this production.
	People People `yaml:"people"`
	// ReusesRangeOf names the retired production whose range vpcCidr
	// reuses, on purpose.
	ReusesRangeOf string `yaml:"reusesRangeOf"`
	// Status is the production's life-cycle state (see State): active
	// unless it says closing or closed.
	Status string `yaml:"status"`
	// Ingest turns on the private ingest path from set and the
	// disaster-recovery copy of the asset bucket; nil for none.
	Ingest *Ingest `yaml:"ingest"`
	// Vendors may reach their own prefix of the production's exchange
	// bucket, in the studio's exchange account, until their date.
	Vendors []Vendor `yaml:"vendors"`
}

// Ingest is the path camera originals take into the asset bucket
// (reference 000): a DataSync agent on set or on premises reaches AWS
// through the production's own interface endpoint, and the asset bucket
// replicates to a bucket of another region.
type Ingest struct {
	// DrRegion holds the replica of the asset bucket; never the
	// production's own region.
	DrRegion string `yaml:"drRegion"`
	// ArchiveAfterDays moves noncurrent versions and objects older than
	// that to colder storage.
	ArchiveAfterDays int64 `yaml:"archiveAfterDays"`
	// DataSyncAgentArn, when set, adds the DataSync locations and task
	// that copy from NFSServer:NFSExport, through the agent, into the
	// asset bucket's ingest/ prefix.
	DataSyncAgentArn string `yaml:"dataSyncAgentArn"`
	// NFSServer (an address of onPremises.cidrs, or a DNS name) and
	// NFSExport are the share the agent reads; with DataSyncAgentArn only.
	NFSServer string `yaml:"nfsServer"`
	NFSExport string `yaml:"nfsExport"`
}

// Vendor is an outside company (VFX house, colour, finishing) that reads,
// or reads and writes, its own prefix of the production's exchange bucket.
type Vendor struct {
	Name    string `yaml:"name"`
	Account string `yaml:"account"`
	Access  string `yaml:"access"`
	// Until is the last day the vendor's role may be used (through
	// 23:59:59 UTC); never after the production's endDate.
	Until Date `yaml:"until"`
}

// Vendor access levels.
const (
	VendorRead  = "read"
	VendorWrite = "write"
)

// Life-cycle states of a production. A closing production keeps its data
// and keys but no compute, and takes no new writes (ISE 6.2, 10.9); closed
// is the same in the templates, recorded once its stacks are destroyed.
const (
	StatusActive  = "active"
	StatusClosing = "closing"
	StatusClosed  = "closed"
)

// State is the production's life-cycle state, StatusActive by default.
func (p *Production) State() string {
	if p.Status == "" {
		return StatusActive
	}
	return p.Status
}

// Closing reports whether the production is closing or closed: it has no
// render compute and its asset bucket takes no new writes.
func (p *Production) Closing() bool {
	s := p.State()
	return s == StatusClosing || s == StatusClosed
}

// RenderProfile is one kind of burst-render node.
type RenderProfile struct {
	Ami              string   `yaml:"ami"`
	InstanceTypes    []string `yaml:"instanceTypes"`
	Purchase         string   `yaml:"purchase"`
	RootVolumeGiB    int64    `yaml:"rootVolumeGiB"`
	ScratchVolumeGiB int64    `yaml:"scratchVolumeGiB"`
	// RootDeviceName is the AMI's root device, which the template's
	// encrypted root volume must map onto; default DefaultRootDevice.
	RootDeviceName string `yaml:"rootDeviceName"`
}

// DefaultRootDevice is the root device of Amazon Linux AMIs. Ubuntu, RHEL,
// Rocky, Alma and Windows AMIs use /dev/sda1.
const DefaultRootDevice = "/dev/xvda"

// ScratchDevice is where the scratch volume is attached.
const ScratchDevice = "/dev/sdb"

// RootDevice is the profile's root device name.
func (rp RenderProfile) RootDevice() string {
	if rp.RootDeviceName == "" {
		return DefaultRootDevice
	}
	return rp.RootDeviceName
}

// Isolation asks for more separation than the tier requires, never less.
type Isolation struct {
	DedicatedAccount bool `yaml:"dedicatedAccount"`
	DedicatedVpc     bool `yaml:"dedicatedVpc"`
	DedicatedKeys    bool `yaml:"dedicatedKeys"`
}

// Audit holds the one audit setting a tier may relax.
type Audit struct {
	S3DataEvents bool `yaml:"s3DataEvents"`
}

// Date is a calendar day written as YYYY-MM-DD.
type Date struct{ time.Time }

func (d Date) String() string { return d.Format(time.DateOnly) }
