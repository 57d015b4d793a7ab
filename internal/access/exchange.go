package access

import (
	"slices"
	"strings"
	"time"

	"github.com/renderenv/renderenv/internal/cfn"
	"github.com/renderenv/renderenv/internal/manifest"
	"github.com/renderenv/renderenv/internal/names"
)

// Principal kinds of the vendor exchange.
const (
	Vendor          = "vendor"           // a vendor's role in the exchange account
	VendorPrincipal = "vendor-principal" // a principal of a vendor's own account
	ExchangeAdmin   = "exchange-admin"   // a role with AdministratorAccess in the exchange account
)

// vendorIP is where a vendor works from: outside every range of the studio.
const vendorIP = "192.0.2.77"

// exchanges reads each production's exchange stack: its vendor roles are
// principals and roles to assume, each vendor's prefix of the exchange
// bucket a target; a principal of each vendor's account, and an
// administrator of the exchange account, are modelled.
func (e *Estate) exchanges(fresh *cfn.Assembly, m *manifest.Estate) {
	n := names.Names{Studio: m.Studio.Studio}
	found := false
	for _, p := range m.Productions {
		sc, s := e.Scopes[p.Name], fresh.Stack(n.ExchangeStack(p.Name))
		if sc == nil || s == nil {
			continue
		}
		found = true
		bucket := n.ExchangeBucket(p.Name, s.Account, s.Region)
		for _, b := range s.OfType("AWS::S3::Bucket") {
			if b.Name() != bucket {
				continue
			}
			var policy *Doc
			for _, bp := range fresh.Policies() {
				if bp.Kind == cfn.Bucket && slices.Contains(bp.Targets, b) {
					policy = docOf(bp)
				}
			}
			for _, v := range p.Vendors {
				sc.Exchange = append(sc.Exchange, &Target{Kind: "exchange", ARN: "arn:aws:s3:::" + bucket + "/" + names.VendorPrefixOf(v.Name),
					Label: bucket + "/" + names.VendorPrefixOf(v.Name), Account: s.Account, Region: s.Region, Owners: []string{p.Name},
					Resource: b, Policy: policy, Vendor: v.Name,
					AssetKey: s.String(b.Prop("BucketEncryption.ServerSideEncryptionConfiguration[0].ServerSideEncryptionByDefault.KMSMasterKeyID"))})
			}
		}
		vendors := map[string]manifest.Vendor{}
		for _, v := range p.Vendors {
			vendors[n.VendorRole(p.Name, v.Name)] = v
		}
		for _, pr := range e.rolePrincipals(sc, s, Vendor) {
			v, ok := vendors[pr.Label]
			if !ok {
				continue
			}
			pr.Vendor, pr.Until, pr.Write = v.Name, v.Until.Time, v.Access == manifest.VendorWrite
			e.Principals = append(e.Principals, pr)
			sc.Roles = append(sc.Roles, &Target{Kind: "role", ARN: pr.ARN, Label: pr.Label, Account: s.Account, Region: s.Region,
				Owners: []string{p.Name}, Resource: pr.Role, Policy: e.policy(pr.Role, cfn.Trust), Vendor: v.Name})
		}
		for _, v := range p.Vendors {
			assume := &Doc{Name: "modelled/vendor-" + v.Name, Policy: map[string]any{"Version": "2012-10-17",
				"Statement": []any{map[string]any{"Sid": "AssumeAnyRole", "Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"}}}}
			e.Principals = append(e.Principals, &Principal{Label: "a principal of vendor " + v.Name + "'s account", ARN: names.RoleArn(v.Account, v.Name+"-transfer"),
				Account: v.Account, Kind: VendorPrincipal, Production: p.Name, Vendor: v.Name, Until: v.Until.Time,
				ExternalID: n.ExternalID(p.Name, v.Name), Identity: []*Doc{assume},
				Modelled: []string{"a role of the vendor's account " + v.Account + ", allowed sts:AssumeRole on *: the vendor decides who that is"}})
		}
	}
	if found {
		admin, how := managedDoc("AdministratorAccess")
		acct := m.Studio.ExchangeAccount
		e.Principals = append(e.Principals, &Principal{Label: "admin of the exchange account " + acct, ARN: names.RoleArn(acct, "exchange-admin"),
			Account: acct, Kind: ExchangeAdmin, Identity: []*Doc{admin}, Modelled: []string{"an unnamed role of the exchange account: " + how}})
	}
}

// vendorOrigins are where a vendor's requests come from: its own network,
// before its date; after it, refused whatever the policies say; and, for
// a principal of its account assuming its role, without the external id.
func vendorOrigins(p *Principal) []origin {
	at := func(t time.Time) map[string]any {
		return map[string]any{"aws:SourceIp": vendorIP, "aws:CurrentTime": t.Format(time.RFC3339)}
	}
	before, after := at(p.Until.Add(12*time.Hour)), at(p.Until.Add(36*time.Hour))
	if p.Kind == VendorPrincipal {
		before["sts:ExternalId"], after["sts:ExternalId"] = p.ExternalID, p.ExternalID
	}
	out := []origin{
		{via: "from the vendor's network, on its last day", context: before},
		{via: "from the vendor's network, the day after its last day", context: after,
			override: "a vendor gets nothing after its until date (aws:CurrentTime)"},
	}
	if p.Kind == VendorPrincipal {
		out = append(out, origin{via: "from the vendor's network, without the external id", context: at(p.Until.Add(12 * time.Hour)),
			override: "a vendor's role is assumed only with its external id (sts:ExternalId)"})
	}
	return out
}

// exchangeRequests are a principal's requests on one vendor's prefix.
func (e *Estate) exchangeRequests(p *Principal, t *Target, add func(action, resource string, o origin, extra map[string]any)) {
	object := t.ARN + "handover/sh010_v003.exr"
	for _, o := range e.origins(p, "s3", t) {
		add(GetObject, object, o, nil)
		// Writes name the exchange key, as the bucket requires.
		add(PutObject, object, o, map[string]any{"s3:x-amz-server-side-encryption": "aws:kms",
			"s3:x-amz-server-side-encryption-aws-kms-key-id": t.AssetKey})
	}
}

// expectExchange decides the requests of the exchange that a production's
// own principals need; ok is false for every other request.
func expectExchange(p *Principal, r *Request) (why string, ok bool) {
	t := r.Target
	switch {
	case p.Kind == VendorPrincipal && r.Action == AssumeRole && t.Kind == "role" && t.Vendor == p.Vendor:
		return "the vendor assumes its own role, with its external id, before its date", true
	case p.Kind == Vendor && t.Kind == "exchange" && t.Vendor == p.Vendor && r.Action == GetObject:
		return "the vendor reads its own prefix before its date", true
	case p.Kind == Vendor && t.Kind == "exchange" && t.Vendor == p.Vendor && r.Action == PutObject && p.Write:
		return "the vendor (access: write) writes its own prefix before its date", true
	case p.Kind == names.DataOperator && t.Kind == "exchange" && r.Action == PutObject && slices.Contains(t.Owners, p.Production) && !strings.Contains(r.Via, "endpoint"):
		return "the data operator delivers into its production's exchange from the admin range", true
	}
	return "", false
}

// exchangeNeed reports whether expectExchange allows the request.
func exchangeNeed(p *Principal, r *Request) bool {
	_, ok := expectExchange(p, r)
	return ok
}
