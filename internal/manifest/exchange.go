package manifest

import (
	"net/netip"
	"regexp"
	"slices"

	"github.com/renderenv/renderenv/internal/names"
)

var (
	dataSyncAgent = regexp.MustCompile(`^arn:aws:datasync:([a-z0-9-]+):([0-9]{12}):agent/agent-[0-9a-z]{17}$`)
	nfsExport     = regexp.MustCompile(`^/[A-Za-z0-9_.\-/]*$`)
)

// Limits of the ingest and exchange paths: S3 lifecycle transitions, and
// the vendors one exchange bucket policy names (each is one role ARN in
// it, and one role in the exchange stack).
const (
	maxArchiveAfterDays = 3650
	maxVendors          = 20
	maxVendorName       = 20
)

// validateExchangeAccount: the exchange account holds roles outsiders
// assume, so it holds nothing else of the estate's.
func validateExchangeAccount(s *Studio, r reporter) {
	a := s.ExchangeAccount
	if a == "" {
		return
	}
	requireAccount(r, "exchangeAccount", a)
	switch a {
	case s.ManagementAccount, s.LogArchive(), s.OrganizationOwner():
		r.add("exchangeAccount", "%s is the management, log-archive or organization's management account: vendor roles live in an account of their own", a)
		return
	}
	for _, pl := range s.Pools {
		if pl.Account == a {
			r.add("exchangeAccount", "%s holds a pool: vendor roles live in an account apart from every production", a)
		}
	}
}

// validateIngest checks a production's ingest block.
func validateIngest(s *Studio, p *Production, r reporter) {
	in := p.Ingest
	if in == nil {
		return
	}
	f := Path("ingest")
	requireRegion(r, f.Child("drRegion"), in.DrRegion)
	if s.Pipeline.Enabled {
		// CodePipeline deploys to another region through a support stack
		// of its own, whose replication bucket is not hardened as every
		// bucket of the estate must be.
		r.add(f.Child("drRegion"), "cannot be deployed by the pipeline (pipeline.enabled): CodePipeline would need a support stack in %s whose bucket renderenv does not harden; deploy this production with the CDK CLI, or leave ingest out", in.DrRegion)
	}
	if in.DrRegion != "" && in.DrRegion == p.Region {
		r.add(f.Child("drRegion"), "%s is the production's own region: the disaster-recovery copy must survive the loss of that region", in.DrRegion)
	}
	if d := in.ArchiveAfterDays; !missing(r, f.Child("archiveAfterDays")) && (d < 1 || d > maxArchiveAfterDays) {
		r.add(f.Child("archiveAfterDays"), "%d days: move objects to colder storage after 1 to %d days", d, maxArchiveAfterDays)
	}
	if s.Studio != "" && p.Name != "" && p.Account != "" && Regions[in.DrRegion] {
		n := names.Names{Studio: s.Studio}
		if b := n.ReplicaBucket(p.Name, p.Account, in.DrRegion); len(b) > maxBucketName {
			r.add("name", "too long: the replica bucket name %s would exceed %d characters", b, maxBucketName)
		}
	}
	validateAgent(s, p, r, f)
}

// validateAgent checks the DataSync agent and the share it reads.
func validateAgent(s *Studio, p *Production, r reporter, f Path) {
	in := p.Ingest
	if in.DataSyncAgentArn == "" {
		for _, field := range []string{"nfsServer", "nfsExport"} {
			if r.src.Has(f.Child(field)) {
				r.add(f.Child(field), "is only meaningful with dataSyncAgentArn, the agent that reads the share")
			}
		}
		return
	}
	ap := f.Child("dataSyncAgentArn")
	m := dataSyncAgent.FindStringSubmatch(in.DataSyncAgentArn)
	switch {
	case m == nil:
		r.add(ap, "%q is not a DataSync agent ARN such as arn:aws:datasync:us-west-2:333333333333:agent/agent-0123456789abcdef0", in.DataSyncAgentArn)
	case m[1] != p.Region && p.Region != "":
		r.add(ap, "the agent is activated in %s; it must be in the production's region %s, where its endpoint is", m[1], p.Region)
	case m[2] != p.Account && p.Account != "":
		r.add(ap, "the agent belongs to account %s; it must be activated in the production's account %s", m[2], p.Account)
	}
	sp := f.Child("nfsServer")
	if in.NFSServer == "" {
		r.add(sp, "is required with dataSyncAgentArn: the NFS server the agent reads")
	} else if a, err := netip.ParseAddr(in.NFSServer); err == nil {
		if !slices.ContainsFunc(s.OnPremises.Cidrs, func(c netip.Prefix) bool { return c.Contains(a) }) {
			r.add(sp, "%s is not inside onPremises.cidrs: the agent reads a share on the studio's own network", a)
		}
	} else if len(in.NFSServer) > 251 || !dnsZone.MatchString(in.NFSServer) {
		r.add(sp, "%q is neither an IPv4 address nor a DNS name", in.NFSServer)
	}
	switch ep := f.Child("nfsExport"); {
	case in.NFSExport == "":
		r.add(ep, "is required with dataSyncAgentArn: the exported path the agent reads, such as /exports/camera")
	case !nfsExport.MatchString(in.NFSExport) || len(in.NFSExport) > 4096:
		r.add(ep, "%q is not an absolute export path such as /exports/camera", in.NFSExport)
	}
}

// validateVendors checks a production's vendors.
func validateVendors(s *Studio, p *Production, r reporter) {
	if len(p.Vendors) == 0 {
		return
	}
	if s.ExchangeAccount == "" {
		// The tier table asks Tier 1 and 2 for it; every tier gets it, as
		// the only other place for vendor roles is the production's own
		// account, next to its content.
		r.add("vendors", "needs exchangeAccount in studio.yaml: vendor roles and exchange buckets live in an account apart from every production (tier %d)", p.Tier)
	} else if s.Studio != "" && p.Name != "" && p.Region != "" {
		n := names.Names{Studio: s.Studio}
		if b := n.ExchangeBucket(p.Name, s.ExchangeAccount, p.Region); len(b) > maxBucketName {
			r.add("name", "too long: the exchange bucket name %s would exceed %d characters", b, maxBucketName)
		}
	}
	if len(p.Vendors) > maxVendors {
		r.add("vendors", "%d vendors; at most %d, each a role the exchange bucket's policy names", len(p.Vendors), maxVendors)
	}
	seen := map[string]int{}
	for i, v := range p.Vendors {
		vp := Path("vendors").Index(i)
		requireName(r, vp.Child("name"), v.Name, maxVendorName)
		if j, dup := seen[v.Name]; dup && v.Name != "" {
			r.add(vp.Child("name"), "%q repeats vendors[%d]: one prefix and one role per vendor", v.Name, j)
		} else {
			seen[v.Name] = i
		}
		requireAccount(r, vp.Child("account"), v.Account)
		switch v.Account {
		case "":
		case s.ManagementAccount, s.LogArchive(), s.OrganizationOwner(), s.ExchangeAccount, p.Account:
			r.add(vp.Child("account"), "%s is an account of the estate (management, log archive, organization, exchange or this production's): a vendor is an outside account", v.Account)
		}
		if v.Access != VendorRead && v.Access != VendorWrite {
			r.add(vp.Child("access"), "%q is not an access level: use read or write", v.Access)
		}
		switch {
		case v.Until.IsZero():
			r.add(vp.Child("until"), "is required: the last day the vendor may reach its prefix")
		case !p.EndDate.IsZero() && v.Until.After(p.EndDate.Time):
			r.add(vp.Child("until"), "%s is after the production's endDate %s", v.Until, p.EndDate)
		}
	}
}

// validateExchangeAccounts are the cross-file rules: the exchange account
// and every vendor account hold no production.
func validateExchangeAccounts(e *Estate, errs *ErrorList) {
	s := &e.Studio
	held := map[string]string{}
	for i := range e.Productions {
		if a := e.Productions[i].Account; a != "" {
			if _, ok := held[a]; !ok {
				held[a] = e.Productions[i].Source.Name
			}
		}
	}
	if f, ok := held[s.ExchangeAccount]; ok && s.ExchangeAccount != "" {
		r := reporter{src: e.StudioSource, errs: errs}
		r.add("exchangeAccount", "%s also holds the production of %s: vendor roles live in an account apart from every production", s.ExchangeAccount, f)
	}
	for i := range e.Productions {
		pf := &e.Productions[i]
		r := reporter{src: pf.Source, errs: errs}
		for j, v := range pf.Vendors {
			if f, ok := held[v.Account]; ok && v.Account != pf.Account {
				r.add(Path("vendors").Index(j).Child("account"), "%s holds the production of %s: a vendor is an outside account", v.Account, f)
			}
		}
	}
}
