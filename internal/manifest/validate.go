package manifest

import (
	"fmt"
	"github.com/renderenv/renderenv/internal/names"
	"maps"
	"net/netip"
	"path"
	"regexp"
	"slices"
	"sort"
	"strings"
)

var (
	dnsName      = regexp.MustCompile(`^[a-z]([a-z0-9-]*[a-z0-9])?$`)
	accountID    = regexp.MustCompile(`^[0-9]{12}$`)
	orgID        = regexp.MustCompile(`^o-[a-z0-9]{10,32}$`)
	amiID        = regexp.MustCompile(`^ami-([0-9a-f]{8}|[0-9a-f]{17})$`)
	ssmParam     = regexp.MustCompile(`^ssm:(/[A-Za-z0-9_.\-]+)+$`)
	instanceType = regexp.MustCompile(`^[a-z][a-z0-9-]*\.[a-z0-9]+(-[a-z0-9]+)*$`)
	email        = regexp.MustCompile(`^[^@\s]+@[^@\s]+\.[a-z]{2,}$`)
	endpointName = regexp.MustCompile(`^[a-z0-9-]+(\.[a-z0-9-]+)*$`)
	azSuffix     = regexp.MustCompile(`^[a-z]$`)
	connArn      = regexp.MustCompile(`^arn:aws:(codestar-connections|codeconnections):[a-z0-9-]+:[0-9]{12}:connection/[0-9a-f-]{36}$`)
	dnsZone      = regexp.MustCompile(`^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`)
	tgwID        = regexp.MustCompile(`^tgw-[0-9a-f]{8,17}$`)
	repoName     = regexp.MustCompile(`^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$`)
	rootDevice   = regexp.MustCompile(`^/dev/(sd[a-z]1?|xvd[a-z])$`)
	roleName     = regexp.MustCompile(`^[A-Za-z0-9+=,.@_-]{1,64}$`)
	roleArn      = regexp.MustCompile(`^arn:aws:iam::([0-9]{12}):role/[A-Za-z0-9+=,.@_/-]+$`)
)

// Limits on names: every stack name and the asset bucket name
// (<studio>-<production>-assets-<account>-<region>, at most 63 characters)
// must stay valid.
const (
	// minAdminBits: admin source ranges narrower than a /8 at the widest.
	minAdminBits      = 8
	maxStudioName     = 12
	maxProductionName = 20
	maxBucketName     = 63
)

// Regions are the AWS commercial region codes renderenv knows.
var Regions = map[string]bool{
	"us-east-1": true, "us-east-2": true, "us-west-1": true, "us-west-2": true,
	"af-south-1": true, "ap-east-1": true, "ap-east-2": true, "ap-south-1": true, "ap-south-2": true,
	"ap-southeast-1": true, "ap-southeast-2": true, "ap-southeast-3": true, "ap-southeast-4": true,
	"ap-southeast-5": true, "ap-southeast-7": true, "ap-northeast-1": true, "ap-northeast-2": true,
	"ap-northeast-3": true, "ca-central-1": true, "ca-west-1": true, "eu-central-1": true,
	"eu-central-2": true, "eu-west-1": true, "eu-west-2": true, "eu-west-3": true,
	"eu-south-1": true, "eu-south-2": true, "eu-north-1": true, "il-central-1": true,
	"me-south-1": true, "me-central-1": true, "mx-central-1": true, "sa-east-1": true,
}

// Caps that keep the largest production stack well under CloudFormation's
// 500 resources: each render profile adds a launch template, each endpoint
// an interface endpoint.
const (
	// maxDataEventExclusions leaves room under CloudTrail's 500 values
	// across a trail's advanced event selectors.
	maxDataEventExclusions = 400
	maxRenderProfiles      = 10
	maxEndpoints           = 20
	// maxDNSZones keeps the studio's part of each DNS Firewall allow list
	// short enough to review.
	maxDNSZones = 50
)

// builtinEndpoints are the interface endpoints every production VPC has.
var builtinEndpoints = []string{"ec2messages", "kms", "logs", "ssm", "ssmmessages", "sts"}

// BuiltinEndpoints returns the interface endpoints every production VPC has.
func BuiltinEndpoints() []string { return append([]string(nil), builtinEndpoints...) }

// reservedAsns are ASNs AWS keeps for itself.
var reservedAsns = map[int64]bool{7224: true, 9059: true, 10124: true, 17943: true}

// Validate checks every manifest and the rules that span files. It is pure:
// the same estate always yields the same errors, in no particular order.
func Validate(e *Estate) ErrorList {
	var errs ErrorList
	if !e.StudioSource.failed {
		validateStudio(&e.Studio, reporter{src: e.StudioSource, errs: &errs})
	}
	// Without a readable pools list, "no pool for this account" would only
	// repeat the studio.yaml error.
	poolsKnown := !e.StudioSource.failed && !e.StudioSource.suppressed("pools")
	seen := map[string]*Source{}
	optedOut := 0
	for i := range e.Productions {
		pf := &e.Productions[i]
		if pf.Source.failed {
			continue
		}
		pr := reporter{src: pf.Source, errs: &errs}
		validateProduction(&e.Studio, pf, pr, poolsKnown)
		if e.Studio.OrganizationID != "" && pf.Source.Has("audit.s3DataEvents") && !pf.Audit.S3DataEvents {
			// The organization trail excludes each such bucket by name.
			if optedOut++; optedOut > maxDataEventExclusions {
				pr.add("audit.s3DataEvents", "more than %d productions turn S3 data events off; the organization trail's selectors hold at most that many exclusions (CloudTrail allows 500 values in all)", maxDataEventExclusions)
			}
		}
		if pf.Name == "" {
			continue
		}
		if prev, ok := seen[pf.Name]; ok {
			pr.add("name", "%q is already the name of %s", pf.Name, prev.Name)
		} else {
			seen[pf.Name] = pf.Source
		}
	}
	validateAccounts(e, &errs)
	validateExchangeAccounts(e, &errs)
	validateRetiredNames(e, &errs)
	validateOverlaps(e, &errs)
	return errs
}

func validateStudio(s *Studio, r reporter) {
	requireName(r, "studio", s.Studio, maxStudioName)
	requireRegion(r, "region", s.Region)
	if s.Owner != "" && !email.MatchString(s.Owner) {
		r.add("owner", "%q is not an email address", s.Owner)
	}
	validateZones(r, "availabilityZones", s.AvailabilityZones, s.Region)
	requireAccount(r, "managementAccount", s.ManagementAccount)
	if s.LogArchiveAccount != "" {
		requireAccount(r, "logArchiveAccount", s.LogArchiveAccount)
	}
	if s.OrganizationID != "" && !orgID.MatchString(s.OrganizationID) {
		r.add("organizationId", "%q is not an AWS Organizations id such as o-a1b2c3d4e5", s.OrganizationID)
	}
	validateOrganization(s, r)
	requireVpcCidr(r, "managementVpcCidr", s.ManagementVpcCidr, 16, 22)
	onp := Path("onPremises")
	if len(s.OnPremises.Cidrs) == 0 {
		r.add(onp.Child("cidrs"), "is required: list the on-premises ranges productions may reach")
	}
	for i, c := range s.OnPremises.Cidrs {
		switch {
		case !c.IsValid():
			r.add(onp.Child("cidrs").Index(i), "is required")
		case !isPrivate(c):
			// Management and the production ACLs route and admit only the
			// RFC 1918 ranges towards the Transit Gateway; a public range
			// would be unreachable, or reached over the internet.
			r.add(onp.Child("cidrs").Index(i), "%s is not inside an RFC 1918 range: on-premises ranges are reached privately over the Transit Gateway", c)
		}
	}
	validateDNSZones(r, onp.Child("dnsZones"), s.OnPremises.DNSZones)
	if v := s.OnPremises.Vpn; v != nil {
		vp := onp.Child("vpn")
		switch {
		case !v.CustomerGatewayIP.IsValid():
			r.add(vp.Child("customerGatewayIp"), "is required")
		case !isPublic(v.CustomerGatewayIP):
			r.add(vp.Child("customerGatewayIp"), "%s is not a public address: the customer gateway is reached over the internet", v.CustomerGatewayIP)
		}
		switch {
		case missing(r, vp.Child("bgpAsn")):
		case v.BgpAsn < 1 || v.BgpAsn > 4294967294 || reservedAsns[v.BgpAsn]:
			r.add(vp.Child("bgpAsn"), "%d is not a usable BGP ASN (1 to 4294967294, not one AWS reserves)", v.BgpAsn)
		case v.BgpAsn == s.TransitGatewayAsn:
			r.add(vp.Child("bgpAsn"), "%d is the Transit Gateway's own ASN (transitGatewayAsn): the BGP session needs two different ASNs", v.BgpAsn)
		}
	}
	if a := s.TransitGatewayAsn; !missing(r, "transitGatewayAsn") && !(a >= 64512 && a <= 65534) && !(a >= 4200000000 && a <= 4294967294) {
		r.add("transitGatewayAsn", "%d is not a private ASN (64512 to 65534, or 4200000000 to 4294967294)", a)
	}
	if s.TransitGatewayID != "" && !tgwID.MatchString(s.TransitGatewayID) {
		r.add("transitGatewayId", "%q is not a Transit Gateway id such as tgw-0123456789abcdef0", s.TransitGatewayID)
	}
	if len(s.AdminSourceCidrs) == 0 {
		r.add("adminSourceCidrs", "is required: the ranges administrators work from (ISE 1.3)")
	}
	for i, c := range s.AdminSourceCidrs {
		switch {
		case !c.IsValid():
		case c.Bits() < minAdminBits:
			r.add(Path("adminSourceCidrs").Index(i), "%s is wider than /%d: list the studio's egress ranges (ISE 1.3)", c, minAdminBits)
		case !isPublic(c.Addr()):
			// aws:SourceIp holds the caller's public address; calls through
			// a VPC endpoint carry none, so a private range never matches.
			r.add(Path("adminSourceCidrs").Index(i), "%s is not a public range: the roles' aws:SourceIp condition sees the studio's public egress address, never a private one, so nobody could assume them", c)
		}
	}
	if s.BreakGlassRole != "" && !roleName.MatchString(s.BreakGlassRole) {
		r.add("breakGlassRole", "%q is not an IAM role name (letters, digits and +=,.@_-, at most 64): name the role, present in every account, not its ARN", s.BreakGlassRole)
	}
	validateStudioPeople(s, r)
	validateRetired(s, r)
	validateExchangeAccount(s, r)
	names := map[string]bool{}
	for i, l := range s.LicenseServers {
		lp := Path("licenseServers").Index(i)
		requireName(r, lp.Child("name"), l.Name, 32)
		if names[l.Name] {
			r.add(lp.Child("name"), "%q is listed twice", l.Name)
		}
		names[l.Name] = true
		switch {
		case !l.Cidr.IsValid():
			r.add(lp.Child("cidr"), "is required")
		case l.Cidr.Bits() < 24:
			r.add(lp.Child("cidr"), "%s is wider than /24: license egress is to named servers only", l.Cidr)
		case !isPublic(l.Cidr.Addr()):
			r.add(lp.Child("cidr"), "%s is not a public range: license servers are the internet egress", l.Cidr)
		}
		requirePort(r, lp.Child("port"), l.Port)
	}
	if len(s.Scheduler.Ports) == 0 {
		r.add("scheduler.ports", "is required: the TLS ports render nodes use to reach the scheduler")
	}
	ports := map[int64]bool{}
	for i, port := range s.Scheduler.Ports {
		pp := Path("scheduler.ports").Index(i)
		requirePort(r, pp, port)
		switch {
		case port == 22 || port == 3389:
			// Every production may reach these ports on the management
			// application tier.
			r.add(pp, "port %d is SSH or RDP: render nodes reach the scheduler over TLS only, and people use Session Manager (ISE 4.1)", port)
		case ports[port]:
			r.add(pp, "port %d is listed twice", port)
		}
		ports[port] = true
	}
	for i, port := range s.Scheduler.WorkerPorts {
		pp := Path("scheduler.workerPorts").Index(i)
		requirePort(r, pp, port)
		switch {
		case port == 22 || port == 3389:
			r.add(pp, "port %d is SSH or RDP: render nodes are reached through Session Manager only (ISE 4.1)", port)
		case port >= 1 && port < 1024:
			r.add(pp, "port %d is a privileged port: worker ports are 1024 to 65535", port)
		}
	}
	for i, arn := range s.Scheduler.Launchers {
		if problem := managementRole(s, arn, "the scheduler runs"); problem != "" {
			r.add(Path("scheduler.launchers").Index(i), "%s", problem)
		}
	}
	pools := map[string]bool{}
	for i, pl := range s.Pools {
		pp := Path("pools").Index(i)
		requireAccount(r, pp.Child("account"), pl.Account)
		requireRegion(r, pp.Child("region"), pl.Region)
		requireVpcCidr(r, pp.Child("vpcCidr"), pl.VpcCidr, 16, 22)
		validateZones(r, pp.Child("availabilityZones"), pl.AvailabilityZones, pl.Region)
		if pl.Account != "" && (pl.Account == s.ManagementAccount || pl.Account == s.LogArchive() || pl.Account == s.OrganizationOwner()) {
			r.add(pp.Child("account"), "%s holds the studio's hub or audit trail, or is the organization's management account: pools run in production accounts", pl.Account)
		}
		key := pl.Account + "/" + pl.Region
		if pools[key] {
			r.add(pp, "a pool for account %s in %s is already declared", pl.Account, pl.Region)
		}
		pools[key] = true
		if pl.Region != s.Region && Regions[pl.Region] && Regions[s.Region] {
			r.add(pp.Child("region"), "must be the studio region %s: the Transit Gateway is regional", s.Region)
		}
	}
	if d := s.Audit.TrailRetentionDays; r.src.Has("audit.trailRetentionDays") && (d < 90 || d > 3650) {
		r.add("audit.trailRetentionDays", "%d days: lock the trail's log files for 90 to 3650 days; COMPLIANCE mode cannot be shortened once set, so choose with care", d)
	}
	for i, m := range s.Alerts.Emails {
		if !email.MatchString(m) {
			r.add(Path("alerts.emails").Index(i), "%q is not an email address", m)
		}
	}
	seen := map[string]bool{}
	for i, arn := range s.Deployers {
		pp := Path("deployers").Index(i)
		m := roleArn.FindStringSubmatch(arn)
		switch {
		case m == nil:
			r.add(pp, "%q is not an IAM role ARN (arn:aws:iam::<account>:role/<name>)", arn)
		case m[1] != s.ManagementAccount && accountID.MatchString(s.ManagementAccount):
			r.add(pp, "%q is not a role of the management account %s, where deployments start", arn, s.ManagementAccount)
		case seen[arn]:
			r.add(pp, "%q is listed twice", arn)
		}
		seen[arn] = true
	}
	if len(s.Deployers) > 10 {
		r.add("deployers", "%d roles: at most 10 (each is one ARN in every bootstrap role's trust)", len(s.Deployers))
	}
	if pl := s.Pipeline; pl.Enabled {
		pp := Path("pipeline")
		if !connArn.MatchString(pl.Connection) {
			r.add(pp.Child("connectionArn"), "%q is not a CodeConnections connection ARN such as arn:aws:codeconnections:us-west-2:111111111111:connection/0a1b2c3d-4e5f-6789-abcd-ef0123456789", pl.Connection)
		}
		if !repoName.MatchString(pl.Repository) {
			r.add(pp.Child("repository"), "%q is not a repository of the form owner/name", pl.Repository)
		}
		if pl.Branch == "" {
			r.add(pp.Child("branch"), "is required when the pipeline is enabled")
		}
		validatePeople(s, r, pp.Child("approvers"), pl.Approvers, "")
	}
}

func validateProduction(s *Studio, pf *ProductionFile, r reporter, poolsKnown bool) {
	p := &pf.Production
	requireName(r, "name", p.Name, maxProductionName)
	if slices.Contains(names.ReservedNames, p.Name) {
		r.add("name", "%q is reserved for the studio's shared stacks; choose another name", p.Name)
	}
	for _, prefix := range names.ReservedPrefixes {
		if strings.HasPrefix(p.Name, prefix) {
			r.add("name", "%q starts with %q, which is reserved for the studio's shared stacks and buckets; choose another name", p.Name, prefix)
		}
	}
	if strings.HasSuffix(p.Name, names.LinkSuffix) {
		r.add("name", "%q ends with %q, which is reserved for the link stacks; choose another name", p.Name, names.LinkSuffix)
	}
	// A production named x-dr would collide with production x's DR stack.
	for _, suffix := range []string{names.ExchangeSuffix, names.DrSuffix} {
		if strings.HasSuffix(p.Name, suffix) {
			r.add("name", "%q ends with %q, which is reserved for the exchange and DR stacks of productions; choose another name", p.Name, suffix)
		}
	}
	if base := strings.TrimSuffix(path.Base(pf.Source.Name), path.Ext(pf.Source.Name)); p.Name != "" && p.Name != base {
		r.add("name", "%q does not match the file name %s", p.Name, path.Base(pf.Source.Name))
	}
	if s.Studio != "" && p.Name != "" && p.Account != "" && p.Region != "" {
		if b := names.AssetBucket(s.Studio, p.Name, p.Account, p.Region); len(b) > maxBucketName {
			r.add("name", "too long: the asset bucket name %s would exceed %d characters", b, maxBucketName)
		}
	}
	pol, ok := Tiers[p.Tier]
	switch {
	case ok:
	case !r.src.Has("tier"):
		r.add("tier", "is required: use 1, 2 or 3")
	default:
		r.add("tier", "%d is not a tier: use 1, 2 or 3", p.Tier)
	}
	requireAccount(r, "account", p.Account)
	requireRegion(r, "region", p.Region)
	if p.Region != s.Region && Regions[p.Region] && Regions[s.Region] {
		r.add("region", "must be the studio region %s: the Transit Gateway that links productions to management is regional", s.Region)
	}
	validateZones(r, "availabilityZones", p.AvailabilityZones, p.Region)
	if p.CostCentre == "" {
		r.add("costCentre", "is required: it tags every resource (ISE 1.2)")
	}
	if !email.MatchString(p.Owner) {
		r.add("owner", "%q is not an email address", p.Owner)
	}
	if p.StartDate.IsZero() {
		r.add("startDate", "is required")
	}
	if p.EndDate.IsZero() {
		r.add("endDate", "is required")
	} else if !p.StartDate.IsZero() && !p.StartDate.Before(p.EndDate.Time) {
		r.add("endDate", "%s is not after startDate %s", p.EndDate, p.StartDate)
	}
	if !r.src.Has("render") && len(p.RenderProfiles) == 0 {
		r.add("render", "is required: describe at least one render profile")
	}
	if p.Render.Ami != "" || r.src.Has("render") {
		validateProfile(r, "render", p.Render)
	}
	if len(p.RenderProfiles) > maxRenderProfiles {
		r.add("renderProfiles", "%d profiles; at most %d, so that the production stack stays well within CloudFormation's resource limit", len(p.RenderProfiles), maxRenderProfiles)
	}
	if len(p.Endpoints) > maxEndpoints {
		r.add("endpoints", "%d endpoints; at most %d, so that the production stack stays well within CloudFormation's resource limit", len(p.Endpoints), maxEndpoints)
	}
	for _, name := range slices.Sorted(maps.Keys(p.RenderProfiles)) {
		pp := Path("renderProfiles").Child(name)
		if !dnsName.MatchString(name) || len(name) > 20 {
			r.add(pp, "profile name %q must be lower case letters, digits and hyphens, at most 20", name)
		} else if name == DefaultProfile {
			r.add(pp, "%q is the name of the render block; choose another", name)
		}
		validateProfile(r, pp, p.RenderProfiles[name])
	}
	seen := map[string]bool{}
	for i, ep := range p.Endpoints {
		ip := Path("endpoints").Index(i)
		switch {
		case !endpointName.MatchString(ep) || !interfaceEndpoints[ep]:
			r.add(ip, "%q is not an AWS service with an interface endpoint, such as ecr.api, secretsmanager or elasticfilesystem", ep)
		case ep == "s3":
			r.add(ip, "s3 is always a gateway endpoint; do not list it")
		case slices.Contains(builtinEndpoints, ep):
			r.add(ip, "%q is already present (built in: %s)", ep, strings.Join(builtinEndpoints, ", "))
		case seen[ep]:
			r.add(ip, "%q is listed twice", ep)
		}
		seen[ep] = true
	}
	switch p.Status {
	case "", StatusActive, StatusClosing, StatusClosed:
	default:
		r.add("status", "%q is not a life-cycle state: use active, closing or closed", p.Status)
	}
	validateCrew(s, p, r)
	validateIngest(s, p, r)
	validateVendors(s, p, r)
	if !ok {
		return
	}
	validateIsolation(s, p, pol, r, poolsKnown)
}

// validateOrganization: the hub, the trail and the productions stay out of
// the organization's management account, where no SCP applies.
func validateOrganization(s *Studio, r reporter) {
	om := Path("organizationManagementAccount")
	switch {
	case s.OrganizationID == "" && s.OrganizationManagementAccount != "":
		r.add(om, "is only meaningful with organizationId")
	case s.OrganizationID == "":
	case s.OrganizationManagementAccount == "":
		r.add("organizationId", "needs organizationManagementAccount beside it: name the organization's management account, so that renderenv can keep the studio's hub, trail and productions out of it (no SCP applies there)")
	case !accountID.MatchString(s.OrganizationManagementAccount):
		requireAccount(r, om, s.OrganizationManagementAccount)
	case s.OrganizationManagementAccount == s.ManagementAccount:
		r.add("managementAccount", "%s is the organization's management account: SCPs do not apply to it, so every guardrail the studio sets in the organization would miss the hub that reaches every production; run the hub in a member account", s.ManagementAccount)
	case s.OrganizationManagementAccount == s.LogArchiveAccount:
		r.add("logArchiveAccount", "%s is the organization's management account: SCPs do not apply to it, so nothing in the organization could stop its administrators altering the audit trail; keep the trail in a member account", s.LogArchiveAccount)
	}
}

// validateStudioPeople checks the studio's people lists: the defaults for
// every production with any {production}, the studio's own roles without.
func validateStudioPeople(s *Studio, r reporter) {
	f := Path("people")
	validatePeople(s, r, f.Child("keyAdmins"), s.People.KeyAdmins, "*")
	validatePeople(s, r, f.Child("dataOperators"), s.People.DataOperators, "*")
	validatePeople(s, r, f.Child("logReaders"), s.People.LogReaders, "*")
	validatePeople(s, r, f.Child("auditors"), s.People.Auditors, "")
	validatePeople(s, r, f.Child("poolKeyAdmins"), s.People.PoolKeyAdmins, "")
}

// validateCrew checks a production's people lists, its own or the ones it
// takes from the studio, with its name in place of {production}.
func validateCrew(s *Studio, p *Production, r reporter) {
	f := Path("people")
	for _, l := range []struct {
		field             string
		own, studio, dflt []string
	}{
		{"keyAdmins", p.People.KeyAdmins, s.People.KeyAdmins, DefaultKeyAdmins},
		{"dataOperators", p.People.DataOperators, s.People.DataOperators, DefaultDataOperators},
		{"logReaders", p.People.LogReaders, s.People.LogReaders, DefaultLogReaders},
	} {
		if l.own != nil {
			validatePeople(s, r, f.Child(l.field), l.own, p.Name)
			continue
		}
		from, list := "studio.yaml's people."+l.field, l.studio
		if list == nil {
			from, list = "the default", l.dflt
		}
		for _, v := range list {
			name, ok := strings.CutPrefix(s.expand(v, p.Name), SSOPrefix)
			if ok && p.Name != "" && len(name) > maxPermissionSetName {
				r.add(f.Child(l.field), "is not set, and %s %q gives the permission set name %q, %d characters; Identity Center allows at most %d: name this production's principals in people.%s", from, v, name, len(name), maxPermissionSetName, l.field)
			}
		}
	}
}

// validateIsolation enforces "more than the tier, never less".
func validateIsolation(s *Studio, p *Production, pol TierPolicy, r reporter, poolsKnown bool) {
	iso := Path("isolation")
	weaker := func(field string, required bool, asked bool) {
		fp := iso.Child(field)
		if required && r.src.Has(fp) && !asked {
			r.add(fp, "tier %d requires it: a manifest may ask for more isolation than its tier, never less", p.Tier)
		}
	}
	weaker("dedicatedAccount", pol.DedicatedAccount, p.Isolation.DedicatedAccount)
	weaker("dedicatedVpc", pol.DedicatedVpc, p.Isolation.DedicatedVpc)
	weaker("dedicatedKeys", pol.DedicatedRootKey && pol.DedicatedAssetKey && pol.DedicatedLoggingKey, p.Isolation.DedicatedKeys)
	if pol.S3DataEvents && !p.Audit.S3DataEvents {
		r.add("audit.s3DataEvents", "tier %d requires S3 data events in the trail (ISE 5.3)", p.Tier)
	}
	dedicatedVpc := pol.DedicatedVpc || p.Isolation.DedicatedVpc
	pool := s.PoolFor(p.Account, p.Region)
	switch {
	case dedicatedVpc && !p.VpcCidr.IsValid():
		r.add("vpcCidr", "is required: the production has a VPC of its own")
	case dedicatedVpc:
		requireVpcCidr(r, "vpcCidr", p.VpcCidr, 16, 22)
	case p.VpcCidr.IsValid() && pool == nil:
		r.add("vpcCidr", "a tier %d production has a VPC of its own only with isolation.dedicatedVpc: true; set it to keep this VPC, or remove vpcCidr and add a pool for account %s in %s to studio.yaml pools", p.Tier, p.Account, p.Region)
	case p.VpcCidr.IsValid():
		r.add("vpcCidr", "a tier %d production has a VPC of its own only with isolation.dedicatedVpc: true; set it to keep this VPC, or remove vpcCidr to join the pool of account %s", p.Tier, p.Account)
	case pool == nil && accountID.MatchString(p.Account) && Regions[p.Region] && poolsKnown:
		r.add("isolation.dedicatedVpc", "tier %d production without a dedicated VPC joins its account's pool, but studio.yaml declares no pool for account %s in %s: add one to pools or set isolation.dedicatedVpc: true", p.Tier, p.Account, p.Region)
	}
	if !dedicatedVpc && len(p.Endpoints) > 0 {
		// The pool's endpoints are the same for every production in it, so
		// that the pool never changes when a production joins.
		r.add("endpoints", "a pooled production uses the endpoints of its pool's VPC; remove endpoints or set isolation.dedicatedVpc: true")
	}
	if !dedicatedVpc && p.Ingest != nil {
		// The DataSync endpoint and its agent ports belong to one
		// production's VPC, never to a pool every production shares.
		r.add("ingest", "a pooled production has no endpoint subnets of its own for the DataSync endpoint; remove ingest or set isolation.dedicatedVpc: true")
	}
}

func validateProfile(r reporter, p Path, rp RenderProfile) {
	switch {
	case rp.Ami == "":
		r.add(p.Child("ami"), "is required: an SSM parameter (ssm:/path) or an AMI id (ami-...)")
	case !amiID.MatchString(rp.Ami) && !ssmParam.MatchString(rp.Ami):
		r.add(p.Child("ami"), "%q is neither an SSM parameter name (ssm:/path) nor an AMI id (ami- and 8 or 17 hex digits)", rp.Ami)
	}
	if len(rp.InstanceTypes) == 0 {
		r.add(p.Child("instanceTypes"), "is required: at least one instance type")
	}
	seen := map[string]bool{}
	for i, t := range rp.InstanceTypes {
		switch {
		case !instanceType.MatchString(t):
			r.add(p.Child("instanceTypes").Index(i), "%q is not an instance type of the form family.size", t)
		case seen[t]:
			r.add(p.Child("instanceTypes").Index(i), "%q is listed twice", t)
		}
		seen[t] = true
	}
	if rp.Purchase != "spot" && rp.Purchase != "on-demand" {
		r.add(p.Child("purchase"), "%q is not a purchase option: use spot or on-demand", rp.Purchase)
	}
	if rp.RootVolumeGiB < 20 || rp.RootVolumeGiB > 16384 {
		r.add(p.Child("rootVolumeGiB"), "must be between 20 and 16384")
	}
	if rp.ScratchVolumeGiB != 0 && (rp.ScratchVolumeGiB < 1 || rp.ScratchVolumeGiB > 16384) {
		r.add(p.Child("scratchVolumeGiB"), "must be between 1 and 16384, or omitted for no scratch volume")
	}
	// A mapping that misses the AMI's root device would leave the root
	// volume outside the root-volume key.
	switch dev := rp.RootDevice(); {
	case !rootDevice.MatchString(dev):
		r.add(p.Child("rootDeviceName"), "%q is not a root device name such as /dev/xvda (Amazon Linux) or /dev/sda1 (Ubuntu, RHEL, Rocky, Windows)", dev)
	case dev == ScratchDevice || dev == ScratchDevice+"1":
		r.add(p.Child("rootDeviceName"), "%q is where the scratch volume is attached; use the AMI's root device", dev)
	}
}

// validateAccounts enforces ISE 1.1: a dedicated account holds one production
// and neither the management nor the log-archive account.
func validateAccounts(e *Estate, errs *ErrorList) {
	s := &e.Studio
	byAccount := map[string][]*ProductionFile{}
	for i := range e.Productions {
		p := &e.Productions[i]
		if p.Account != "" {
			byAccount[p.Account] = append(byAccount[p.Account], p)
		}
	}
	for i := range e.Productions {
		p := &e.Productions[i]
		if p.Account == "" {
			continue
		}
		r := reporter{src: p.Source, errs: errs}
		// ISE 1.1: the hub and the evidence live apart from every production.
		switch p.Account {
		case s.OrganizationOwner():
			r.add("account", "%s is the organization's management account, where no SCP applies: productions run in member accounts (ISE 1.1)", p.Account)
			continue
		case s.ManagementAccount:
			r.add("account", "%s is the management account, which holds the studio's network hub: productions run in accounts of their own (ISE 1.1)", p.Account)
			continue
		case s.LogArchive():
			r.add("account", "%s is the log-archive account, which holds the studio's audit trail: productions run in accounts of their own (ISE 1.1)", p.Account)
			continue
		}
		pol, ok := Tiers[p.Tier]
		if !ok || !(pol.DedicatedAccount || p.Isolation.DedicatedAccount) {
			continue
		}
		var others []string
		for _, o := range byAccount[p.Account] {
			if o != p {
				others = append(others, o.Source.Name)
			}
		}
		if len(others) > 0 {
			r.add("account", "%s is also used by %s: a dedicated account holds one production only", p.Account, strings.Join(others, ", "))
		}
	}
}

// network is one address range claimed by one manifest field.
type network struct {
	cidr  netip.Prefix
	src   *Source
	field Path
	// retired is the retired production that held the range; reuses, the
	// retired production a production says it reuses the range of.
	retired *Retired
	reuses  string
}

// validateOverlaps finds every pair of overlapping ranges. Ranges are sorted
// by start address so the check is O(n log n), not quadratic, for estates of
// hundreds of productions.
func validateOverlaps(e *Estate, errs *ErrorList) {
	var nets []network
	add := func(c netip.Prefix, src *Source, f Path) {
		if c.IsValid() {
			nets = append(nets, network{cidr: c.Masked(), src: src, field: f})
		}
	}
	s := &e.Studio
	add(s.ManagementVpcCidr, e.StudioSource, "managementVpcCidr")
	for i, c := range s.OnPremises.Cidrs {
		add(c, e.StudioSource, Path("onPremises.cidrs").Index(i))
	}
	for i, pl := range s.Pools {
		add(pl.VpcCidr, e.StudioSource, Path("pools").Index(i).Child("vpcCidr"))
	}
	for i := range e.Productions {
		add(e.Productions[i].VpcCidr, e.Productions[i].Source, "vpcCidr")
		if len(nets) > 0 && nets[len(nets)-1].src == e.Productions[i].Source {
			nets[len(nets)-1].reuses = e.Productions[i].ReusesRangeOf
		}
	}
	for i := range s.Retired {
		add(s.Retired[i].VpcCidr, e.StudioSource, Path("retired").Index(i).Child("vpcCidr"))
		if len(nets) > 0 && nets[len(nets)-1].field == Path("retired").Index(i).Child("vpcCidr") {
			nets[len(nets)-1].retired = &s.Retired[i]
		}
	}
	sort.SliceStable(nets, func(i, j int) bool { return nets[i].cidr.Addr().Less(nets[j].cidr.Addr()) })
	// Sweep: a range overlaps an earlier one only if it starts before the
	// furthest end seen so far; keep the open ranges that might still overlap.
	var open []network
	for _, n := range nets {
		kept := open[:0]
		for _, o := range open {
			if lastAddr(o.cidr).Less(n.cidr.Addr()) {
				continue
			}
			kept = append(kept, o)
			switch msg := retiredOverlap(n, o); {
			case msg == "-":
				r := reporter{src: n.src, errs: errs}
				r.add(n.field, "%s overlaps %s (%s %s)", n.cidr, o.cidr, o.src.Name, o.field)
			case msg != "":
				at := n
				if n.retired != nil {
					at = o
				}
				r := reporter{src: at.src, errs: errs}
				r.add(at.field, "%s", msg)
			}
		}
		open = append(kept, n)
	}
}

func lastAddr(p netip.Prefix) netip.Addr {
	a := p.Addr().As4()
	host := uint32(1)<<(32-p.Bits()) - 1
	v := (uint32(a[0])<<24 | uint32(a[1])<<16 | uint32(a[2])<<8 | uint32(a[3])) | host
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
}

func isPrivate(p netip.Prefix) bool {
	for _, r := range PrivateRanges {
		if r.Bits() <= p.Bits() && r.Contains(p.Addr()) {
			return true
		}
	}
	return false
}

func isPublic(a netip.Addr) bool {
	return a.IsGlobalUnicast() && !a.IsPrivate() && !netip.MustParsePrefix("100.64.0.0/10").Contains(a)
}

// validateDNSZones checks the studio's DNS names that production networks
// may resolve. Each entry allows itself and every name below it through
// the DNS Firewall, so an entry as wide as a top-level domain would reopen
// the DNS exit the firewall closes.
func validateDNSZones(r reporter, f Path, zones []string) {
	if len(zones) > maxDNSZones {
		r.add(f, "%d zones; at most %d", len(zones), maxDNSZones)
	}
	seen := map[string]int{}
	for i, z := range zones {
		zp := f.Index(i)
		switch {
		case z == "":
			r.add(zp, "is required")
		case strings.HasPrefix(z, "*."):
			r.add(zp, "%q: write the zone without \"*.\": every name below it is allowed with it", z)
		case strings.HasSuffix(z, "."):
			r.add(zp, "%q: write the zone without the trailing dot", z)
		case !strings.Contains(z, "."):
			r.add(zp, "%q is a single label: it would let render nodes resolve every name of a top-level domain; name the studio's own zone, such as studio.internal", z)
		case len(z) > 251 || !dnsZone.MatchString(z):
			r.add(zp, "%q is not a DNS name: lower-case letters, digits and hyphens in dot-separated labels of at most 63, at most 251 in all", z)
		default:
			if j, dup := seen[z]; dup {
				r.add(zp, "%q repeats dnsZones[%d]", z, j)
			}
			seen[z] = i
		}
	}
}

func requireName(r reporter, f Path, v string, max int) {
	switch {
	case v == "":
		r.add(f, "is required")
	case !dnsName.MatchString(v) || len(v) > max:
		r.add(f, "%q must be DNS-safe: lower case letters, digits and hyphens, starting with a letter, at most %d characters", v, max)
	}
}

func requireAccount(r reporter, f Path, v string) {
	switch {
	case v == "":
		r.add(f, "is required")
	case !accountID.MatchString(v):
		r.add(f, "%q is not a 12-digit AWS account id (quote it in YAML)", v)
	}
}

func requireRegion(r reporter, f Path, v string) {
	switch {
	case v == "":
		r.add(f, "is required")
	case !Regions[v]:
		r.add(f, "%q is not an AWS region code such as us-west-2", v)
	}
}

// missing reports a number the manifest leaves out as required, rather than
// as the 0 it decodes to.
func missing(r reporter, f Path) bool {
	if r.src.Has(f) {
		return false
	}
	r.add(f, "is required")
	return true
}

func requirePort(r reporter, f Path, v int64) {
	if !missing(r, f) && (v < 1 || v > 65535) {
		r.add(f, "%d is not a port: use 1 to 65535", v)
	}
}

func requireVpcCidr(r reporter, f Path, c netip.Prefix, minBits, maxBits int) {
	switch {
	case !c.IsValid():
		r.add(f, "is required")
	case !isPrivate(c):
		r.add(f, "%s is not inside an RFC 1918 range (10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16)", c)
	case c.Bits() < minBits || c.Bits() > maxBits:
		r.add(f, "%s must be between /%d and /%d", c, minBits, maxBits)
	}
}

func validateZones(r reporter, f Path, zones []string, region string) {
	if len(zones) == 1 {
		r.add(f, "list at least two availability zones, or none for the region default")
	}
	seen := map[string]bool{}
	for i, z := range zones {
		// Zones of an unknown region are not checked: the region's own
		// error says what to fix.
		if Regions[region] && (!strings.HasPrefix(z, region) || !azSuffix.MatchString(strings.TrimPrefix(z, region))) {
			r.add(f.Index(i), "%q is not an availability zone of %s", z, region)
		}
		if seen[z] {
			r.add(f.Index(i), "%q is listed twice", z)
		}
		seen[z] = true
	}
}

// managementRole says what keeps arn from being a role of the management
// account, where what follows "where" happens; "" when it is one.
func managementRole(s *Studio, arn, where string) string {
	m := roleArn.FindStringSubmatch(arn)
	switch {
	case m == nil:
		return fmt.Sprintf("%q is not an IAM role ARN (arn:aws:iam::<account>:role/<name>)", arn)
	case m[1] != s.ManagementAccount && accountID.MatchString(s.ManagementAccount):
		return fmt.Sprintf("%q is not a role of the management account %s, where %s", arn, s.ManagementAccount, where)
	}
	return ""
}
