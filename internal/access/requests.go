package access

import (
	"fmt"
	"maps"
	"net/netip"
	"slices"
	"strings"

	"github.com/renderenv/renderenv/internal/manifest"
	"github.com/renderenv/renderenv/internal/names"
)

// The actions of the matrix.
const (
	GetObject       = "s3:GetObject"
	PutObject       = "s3:PutObject"
	Decrypt         = "kms:Decrypt"
	GenerateDataKey = "kms:GenerateDataKey"
	CreateGrant     = "kms:CreateGrant"
	PutKeyPolicy    = "kms:PutKeyPolicy"
	AssumeRole      = "sts:AssumeRole"
	RunInstances    = "ec2:RunInstances"
)

// outsideIP is where a stolen session is used from: outside every admin
// range (TEST-NET-3).
const outsideIP = "203.0.113.200"

// foreignImage is an AMI that no launch template names.
const foreignImage = "ami-0a11ce0fba5eba11e"

// Options narrow the matrix.
type Options struct {
	// Neighbours, when above 0, limits the other productions each
	// production's principals are tried against: those that share its
	// account or pool come first, then the others in name order. Every
	// modelled principal is still tried against every production. 0: all.
	Neighbours int
	// Only, when not empty, limits the matrix to these productions and
	// their pools, as principals and as targets.
	Only []string
}

// covers reports whether the options keep a production or pool.
func (e *Estate) covers(opt Options, scope string) bool {
	if len(opt.Only) == 0 || scope == "" {
		return true
	}
	for _, name := range opt.Only {
		if name == scope || (e.Scopes[name] != nil && e.Scopes[name].Pool == scope) {
			return true
		}
	}
	return false
}

// origin is where a call comes from.
type origin struct {
	via      string
	context  map[string]any
	endpoint *Endpoint
	stolen   bool
	// override is why a request that changes what the template or the
	// bucket fixes must be denied, whoever makes it.
	override string
}

// Requests builds every request of the matrix, in a stable order.
func (e *Estate) Requests(opt Options) []*Request {
	var out []*Request
	for _, p := range e.Principals {
		if !e.covers(opt, p.Production) {
			continue
		}
		for _, sc := range e.targetScopes(p, opt) {
			if !e.covers(opt, sc.Name) {
				continue
			}
			for _, t := range sc.targets() {
				if (p.Kind == Person || p.Kind == VendorPrincipal) && t.Kind != "role" {
					continue // people and vendors reach data only through the roles they assume
				}
				out = append(out, e.requestsFor(p, t)...)
			}
		}
	}
	seen := map[string]int{}
	for _, r := range out {
		base := fmt.Sprintf("%s|%s|%s|%s", r.Principal.ARN, r.Action, r.Resource, r.Via)
		seen[base]++
		r.ID = base
		if n := seen[base]; n > 1 {
			r.ID = fmt.Sprintf("%s|%d", base, n)
		}
	}
	return out
}

// targets are what the scope's own stack holds (a pooled production's
// keys are its pool's and are listed there).
func (sc *Scope) targets() []*Target {
	var out []*Target
	for _, k := range sc.Keys {
		if k.Resource.Stack == sc.Stack {
			out = append(out, k)
		}
	}
	return slices.Concat(sc.Assets, out, sc.Roles, sc.Templates, sc.Archives, sc.Exchange)
}

// targetScopes are the scopes whose resources a principal is tried on.
func (e *Estate) targetScopes(p *Principal, opt Options) []*Scope {
	all := slices.Sorted(maps.Keys(e.Scopes))
	if opt.Neighbours <= 0 || p.Production == "" {
		return e.scopes(all)
	}
	own := e.Scopes[p.Production]
	related := func(name string) bool {
		sc := e.Scopes[name]
		return name == p.Production || name == own.Pool || sc.Pool == p.Production || (own.Pool != "" && sc.Pool == own.Pool)
	}
	var picked, sameAccount, others []string
	for _, name := range all {
		switch {
		case related(name):
			picked = append(picked, name)
		case e.Scopes[name].Account == own.Account:
			sameAccount = append(sameAccount, name)
		default:
			others = append(others, name)
		}
	}
	rest := slices.Concat(sameAccount, others)
	if len(rest) > opt.Neighbours {
		// Keep a neighbour in another account when there is one.
		n := min(opt.Neighbours, len(sameAccount))
		if n == opt.Neighbours && len(others) > 0 {
			n--
		}
		rest = slices.Concat(sameAccount[:n], others[:min(len(others), opt.Neighbours-n)])
	}
	return e.scopes(slices.Concat(picked, rest))
}

func (e *Estate) scopes(list []string) []*Scope {
	out := make([]*Scope, 0, len(list))
	for _, name := range list {
		out = append(out, e.Scopes[name])
	}
	return out
}

// service is the service prefix of an action.
func service(action string) string { return action[:strings.IndexByte(action, ':')] }

// origins are where a principal calls a service from: people from the
// admin range with MFA (and, for data and for the management account's
// people on roles, a stolen session from elsewhere),
// render nodes through their VPC's endpoint, launchers and schedulers from
// the management VPC, administrators of a shared account from outside and
// through the endpoints of the productions in their account.
func (e *Estate) origins(p *Principal, svc string, t *Target) []origin {
	admin := e.adminHost()
	people := origin{via: "from the admin range, with MFA", context: map[string]any{"aws:SourceIp": admin, "aws:MultiFactorAuthPresent": "true"}}
	switch p.Kind {
	case Person:
		// Identity Center sessions carry no MFA key; a named role's
		// session must carry it, and one without is refused.
		at := origin{via: "from the admin range", context: map[string]any{"aws:SourceIp": admin}}
		away := origin{via: "from outside the admin range", stolen: true, context: map[string]any{"aws:SourceIp": outsideIP}}
		if p.SSO {
			return []origin{at, away}
		}
		noMfa := origin{via: "from the admin range, without MFA", override: "a named role's session without MFA is refused (ISE 1.5)",
			context: map[string]any{"aws:SourceIp": admin, "aws:MultiFactorAuthPresent": "false"}}
		at.via += ", with MFA"
		at.context["aws:MultiFactorAuthPresent"] = "true"
		away.context["aws:MultiFactorAuthPresent"] = "true"
		return []origin{at, away, noMfa}
	case Vendor, VendorPrincipal:
		return vendorOrigins(p)
	case names.KeyAdmin, names.DataOperator, names.LogReader, ManagementAdmin, BreakGlass, ExchangeAdmin:
		out := []origin{people}
		// A stolen session is tried on data by people of the productions,
		// and on roles by people of the management account, who are the
		// ones the people roles trust (ISE 1.3).
		if (svc == "s3" && p.Kind != ManagementAdmin && p.Kind != BreakGlass) || (svc == "sts" && p.Kind == ManagementAdmin) {
			out = append(out, origin{via: "stolen session, from outside the admin range", stolen: true,
				context: map[string]any{"aws:SourceIp": outsideIP, "aws:MultiFactorAuthPresent": "true"}})
		}
		return out
	case names.Render:
		if ep := e.Scopes[p.Production].Endpoints[svc]; ep != nil {
			return []origin{through(ep, "through its production's "+svc+" endpoint")}
		}
		return []origin{{via: "from its production's VPC, without an endpoint", context: map[string]any{}}}
	case names.Launcher, Scheduler:
		if ep := e.Hub[svc]; ep != nil {
			return []origin{through(ep, "from the management VPC, through its "+svc+" endpoint")}
		}
		return []origin{{via: "from the management account", context: map[string]any{}}}
	case SharedAdmin, LookAlike:
		out := []origin{people}
		for _, name := range slices.Sorted(maps.Keys(e.Scopes)) {
			sc := e.Scopes[name]
			if sc.Account != p.Account || !t.belongsTo(sc) {
				continue
			}
			if ep := sc.Endpoints[svc]; ep != nil && !slices.ContainsFunc(out, func(o origin) bool { return o.endpoint == ep }) {
				out = append(out, through(ep, "from a host in "+name+"'s VPC, through its "+svc+" endpoint"))
			}
		}
		return out
	case DeployRole:
		return []origin{{via: "through CloudFormation", context: map[string]any{"aws:CalledVia": []string{"cloudformation.amazonaws.com"},
			"aws:CalledViaFirst": "cloudformation.amazonaws.com"}}}
	}
	return []origin{{via: "as its service runs it", context: map[string]any{}}}
}

func through(ep *Endpoint, via string) origin {
	return origin{via: via + " " + ep.ID, endpoint: ep, context: map[string]any{"aws:SourceVpce": ep.ID, "aws:SourceVpc": ep.VPC}}
}

// belongsTo reports whether a target is one of the scope's resources.
func (t *Target) belongsTo(sc *Scope) bool {
	return slices.Contains(t.Owners, sc.Name) || t.Pool == sc.Name || (sc.Pool != "" && t.Pool == sc.Pool)
}

// adminHost is an address inside the first admin range.
func (e *Estate) adminHost() string {
	if cidrs := e.Manifests.Studio.AdminSourceCidrs; len(cidrs) > 0 {
		return cidrs[0].Addr().Next().String()
	}
	return netip.MustParseAddr("198.51.100.10").String()
}

// kmsMode is how a KMS call is made: directly, or by S3 or EC2 on the
// caller's behalf (kms:ViaService).
type kmsMode struct{ via, service string }

func kmsModes(action string) []kmsMode {
	direct, s3, ec2 := kmsMode{"", ""}, kmsMode{"by S3", "s3"}, kmsMode{"by EC2", "ec2"}
	switch action {
	case Decrypt:
		return []kmsMode{direct, s3, ec2}
	case GenerateDataKey:
		return []kmsMode{direct, s3}
	case CreateGrant:
		return []kmsMode{direct, ec2}
	}
	return []kmsMode{direct}
}

// requestsFor builds a principal's requests on one target.
func (e *Estate) requestsFor(p *Principal, t *Target) []*Request {
	var out []*Request
	add := func(action, resource string, o origin, extra map[string]any) {
		ctx := map[string]any{"aws:PrincipalArn": p.ARN, "aws:PrincipalAccount": p.Account, "aws:ResourceAccount": t.Account,
			"aws:SecureTransport": "true", "aws:RequestedRegion": t.Region}
		if org := e.Manifests.Studio.OrganizationID; org != "" {
			// Every account of the estate is in the studio's organization.
			ctx["aws:PrincipalOrgID"], ctx["aws:ResourceOrgID"] = org, org
		}
		for k, v := range p.Tags {
			ctx["aws:PrincipalTag/"+k] = v
		}
		maps.Copy(ctx, o.context)
		maps.Copy(ctx, extra)
		r := &Request{Principal: p, Action: action, Target: t, Resource: resource, Context: ctx, Via: o.via}
		if o.endpoint != nil {
			r.Endpoint = o.endpoint.Doc
		}
		r.Expect, r.Why = e.expect(p, r, o)
		r.Outside = e.outside(p, r)
		out = append(out, r)
	}
	switch t.Kind {
	case "assets":
		object := t.ARN + "/shots/sh010/frame.1001.exr"
		for _, o := range e.origins(p, "s3", t) {
			add(GetObject, object, o, nil)
			add(PutObject, object, o, map[string]any{"s3:x-amz-server-side-encryption": "aws:kms",
				"s3:x-amz-server-side-encryption-aws-kms-key-id": t.AssetKey})
			noKey := o
			noKey.via += ", naming no key"
			noKey.override = "a write that names no key is encrypted with aws/s3, not the asset key"
			add(PutObject, object, noKey, map[string]any{"s3:x-amz-server-side-encryption": "aws:kms"})
		}
	case "key":
		for _, action := range []string{Decrypt, GenerateDataKey, CreateGrant, PutKeyPolicy} {
			origins := e.origins(p, "kms", t)
			for _, m := range kmsModes(action) {
				for i, o := range origins {
					extra := map[string]any{"kms:CallerAccount": p.Account}
					if len(t.Aliases) > 0 {
						aliases := make([]string, len(t.Aliases))
						copy(aliases, t.Aliases)
						extra["kms:ResourceAliases"] = aliases
					}
					if action == CreateGrant {
						extra["kms:GrantIsForAWSResource"] = fmt.Sprint(m.service != "")
					}
					if m.service != "" {
						if i > 0 {
							break // a service calls KMS the same way whatever the caller's origin
						}
						extra["kms:ViaService"] = m.service + "." + t.Region + ".amazonaws.com"
						// The service calls KMS itself: no endpoint of the caller's.
						o = origin{via: o.via + ", " + m.via, context: withoutEndpoint(o.context), stolen: o.stolen}
					}
					add(action, t.ARN, o, extra)
				}
			}
		}
	case "session-archive":
		object := t.ARN + "/i-0123456789abcdef0-0123456789abcdef.log"
		for _, o := range e.origins(p, "s3", t) {
			add(PutObject, object, o, nil)
			add(GetObject, object, o, nil)
		}
	case "exchange":
		e.exchangeRequests(p, t, add)
	case "role":
		for _, o := range e.origins(p, "sts", t) {
			add(AssumeRole, t.ARN, o, nil)
		}
	case "launch-template":
		for _, o := range e.origins(p, "ec2", t) {
			add(RunInstances, t.ARN, o, map[string]any{"ec2:LaunchTemplate": t.ARN, "ec2:IsLaunchTemplateResource": "true"})
			ami := o
			ami.via += ", with an AMI of the caller's choosing"
			ami.override = "a launch through the template cannot replace its AMI"
			add(RunInstances, fmt.Sprintf("arn:aws:ec2:%s::image/%s", t.Region, foreignImage), ami,
				map[string]any{"ec2:LaunchTemplate": t.ARN, "ec2:IsLaunchTemplateResource": "false"})
		}
	}
	return out
}

func withoutEndpoint(ctx map[string]any) map[string]any {
	out := maps.Clone(ctx)
	delete(out, "aws:SourceVpce")
	delete(out, "aws:SourceVpc")
	return out
}

// closing reports whether the production named is closing or closed.
func (e *Estate) closing(production string) bool {
	for _, pf := range e.Manifests.Productions {
		if pf.Name == production {
			return pf.Closing()
		}
	}
	return false
}

// expect decides what a request should get, and why. Every request on
// another production's resources is denied; a production's own roles get
// exactly what they need (the positive controls), and nothing else of the
// matrix's actions.
func (e *Estate) expect(p *Principal, r *Request, o origin) (Expect, string) {
	t := r.Target
	own := p.Production != "" && (slices.Contains(t.Owners, p.Production) || t.Pool == p.Production)
	viaS3 := r.Context["kms:ViaService"] == "s3."+t.Region+".amazonaws.com"
	viaEC2 := r.Context["kms:ViaService"] == "ec2."+t.Region+".amazonaws.com"
	switch {
	case o.override != "":
		return Deny, o.override
	case o.stolen:
		return Deny, "a session used from outside the admin range gets nothing (ISE 1.3)"
	case exchangeNeed(p, r):
		why, _ := expectExchange(p, r)
		return Allow, why
	case p.Kind == DeployRole && r.Action == PutKeyPolicy && t.Account == p.Account:
		return Allow, "the deploy role updates the key policy on the next deploy: no lockout"
	case p.Kind == BreakGlass && r.Action == PutKeyPolicy && t.Account == p.Account:
		return Allow, "studio.yaml names it the break-glass key administrator"
	case p.Kind == Scheduler && r.Action == AssumeRole && strings.HasSuffix(t.Label, "-"+names.Launcher):
		return Allow, "studio.yaml names it in scheduler.launchers"
	case p.Kind == Person && r.Action == AssumeRole && t.Label == names.Role(e.Studio+"-"+p.Production, p.Assumes):
		return Allow, "the manifests name this person for " + p.Assumes
	case p.Kind == "link-lookup" && r.Action == AssumeRole && t.Label == names.Role(e.Studio+"-"+p.Production, names.TgwReader):
		return Allow, "the link stack's look-up reads its own network's attachment"
	case !own:
		return Deny, "not a principal of " + strings.Join(slices.Concat(t.Owners, nonEmpty(t.Pool)), ", ")
	case t.Kind == "assets" && r.Action == PutObject && e.closing(p.Production):
		return Deny, p.Production + " is closing: its asset bucket takes no new object, reads still work (ISE 10.9)"
	}
	need := func(why string) (Expect, string) { return Allow, why }
	// S3 uses the asset key on behalf of whoever reads or writes assets.
	assetKeyByS3 := t.Kind == "key" && t.Purpose == "content-asset" && viaS3 && (r.Action == Decrypt || r.Action == GenerateDataKey)
	logging := func(action string) bool { return t.Kind == "key" && t.Purpose == "logging" && r.Action == action }
	switch p.Kind {
	case names.DataOperator:
		switch {
		case t.Kind == "assets" && o.endpoint == nil:
			return need("the data operator reads and writes its assets from the admin range")
		case assetKeyByS3:
			return need("the data operator's S3 calls use the asset key")
		case logging(GenerateDataKey):
			return need("the data operator's sessions are encrypted with the logging key")
		}
	case names.Render:
		switch {
		case t.Kind == "assets" && o.endpoint != nil:
			return need("the render role reads and writes its assets through its VPC's endpoint")
		case assetKeyByS3:
			return need("the render role's S3 calls use the asset key")
		case logging(Decrypt):
			return need("the render node decrypts the sessions it hosts with the logging key")
		case t.Kind == "session-archive" && r.Action == PutObject && o.endpoint != nil:
			return need("the render node archives its sessions under its production's prefix of the log-archive bucket")
		}
	case names.Launcher:
		switch {
		case t.Kind == "launch-template":
			return need("the launcher runs its production's launch templates")
		case t.Kind == "key" && viaEC2 && (t.Purpose == "root-volume" || t.Purpose == "content-asset") && (r.Action == Decrypt || r.Action == CreateGrant):
			return need("EC2 encrypts the launcher's root and scratch volumes with this key")
		}
	case names.DataSync:
		if assetKeyByS3 {
			return need("S3 uses the asset key when DataSync writes ingested files as this role")
		}
	case names.KeyAdmin:
		if t.Kind == "key" && r.Action == PutKeyPolicy && (t.Pool == "" || t.Pool == p.Production) {
			return need("the key administrator administers its keys")
		}
	}
	return Deny, p.Kind + " does not need it"
}

func nonEmpty(s string) []string {
	if s == "" {
		return nil
	}
	return []string{s}
}

// outside says why a request the templates cannot decide is the studio's:
// an administrator of an account the tier lets productions share, or a
// role it creates, runs the account's launch templates. EC2 has no
// resource policy and the render role's trust names only the EC2 service,
// so only a service control policy or a dedicated account separates them.
func (e *Estate) outside(p *Principal, r *Request) string {
	if r.Expect != Deny || r.Action != RunInstances || (p.Kind != SharedAdmin && p.Kind != LookAlike) || r.Target.Account != p.Account {
		return ""
	}
	for _, owner := range r.Target.Owners {
		for _, prod := range e.Manifests.Productions {
			if prod.Name == owner && (manifest.Tiers[prod.Tier].DedicatedAccount || prod.Isolation.DedicatedAccount) {
				return "" // a dedicated account has no neighbour's administrator
			}
		}
	}
	return fmt.Sprintf("the studio's: account %s holds productions of tiers that may share an account (ISE 1.1), so its administrators administer each of them; EC2 has no resource policy, so only a service control policy (ec2:RunInstances on the studio's launch templates and iam:PassRole of its render roles, for every principal but the launchers) or a dedicated account separates them", p.Account)
}
