package access

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/renderenv/renderenv/internal/bootstrap"
	"github.com/renderenv/renderenv/internal/cfn"
	"github.com/renderenv/renderenv/internal/manifest"
	"github.com/renderenv/renderenv/internal/names"
)

// Build reads an estate for the matrix: a fresh copy of the assembly (see
// Fresh; edit, when not nil, changes the templates first, for fault
// injection) and the manifests the estate was synthesized from, which give
// the studio's accounts and admin ranges. Every account and region of a
// stack comes from the assembly (manifest.json).
func Build(a *cfn.Assembly, m *manifest.Estate, edit func(stack string, template map[string]any)) (*Estate, error) {
	fresh, err := Fresh(a, edit)
	if err != nil {
		return nil, err
	}
	n := names.Names{Studio: m.Studio.Studio}
	e := &Estate{Assembly: fresh, Manifests: m, Studio: n.Studio, Management: m.Studio.ManagementAccount,
		Scopes: map[string]*Scope{}, Hub: map[string]*Endpoint{}}
	for _, s := range fresh.Stacks {
		if s.Account == "" {
			return nil, fmt.Errorf("stack %s has no account: the matrix needs the assembly's manifest.json", s.Name)
		}
	}
	for _, p := range m.Productions {
		if s := fresh.Stack(n.ProductionStack(p.Name)); s != nil {
			e.Scopes[p.Name] = e.scope(p.Name, s)
		}
	}
	for _, pool := range m.Studio.Pools {
		if s := fresh.Stack(n.PoolStack(pool.Account)); s != nil {
			name := names.PoolPrefix + pool.Account
			e.Scopes[name] = e.scope(name, s)
		}
	}
	if hub := fresh.Stack(n.NetworkStack()); hub != nil {
		e.Hub = e.endpoints(hub)
	}
	e.archives(fresh, m)
	// A production that has no network of its own uses its pool's, and
	// the pool's keys its stack reads.
	for _, name := range slices.Sorted(maps.Keys(e.Scopes)) {
		sc := e.Scopes[name]
		if sc.Pool == "" {
			continue
		}
		pool := e.Scopes[sc.Pool]
		if len(sc.Endpoints) == 0 {
			sc.Endpoints = pool.Endpoints
		}
		used := e.readFrom(sc.Stack)
		for _, k := range pool.Keys {
			if slices.Contains(used, k.Resource) {
				k.Owners = append(k.Owners, sc.Name)
				sc.Keys = append(sc.Keys, k)
			}
		}
	}
	for _, name := range slices.Sorted(maps.Keys(e.Scopes)) {
		sc := e.Scopes[name]
		e.Principals = append(e.Principals, e.rolePrincipals(sc, sc.Stack, "")...)
		if link := fresh.Stack(names.LinkStack(sc.Stack.Name)); link != nil {
			e.Principals = append(e.Principals, e.rolePrincipals(sc, link, "link-lookup")...)
		}
	}
	e.exchanges(fresh, m)
	if hub := fresh.Stack(n.NetworkStack()); hub != nil {
		e.Principals = append(e.Principals, e.hubPrincipals(hub)...)
	}
	e.Principals = append(e.Principals, e.modelled()...)
	return e, nil
}

// archives gives each production its prefix of the log-archive bucket as a
// target: a bucket of another account, which only the bucket's policy
// opens to the production's principals.
func (e *Estate) archives(fresh *cfn.Assembly, m *manifest.Estate) {
	n := names.Names{Studio: m.Studio.Studio, Region: m.Studio.Region, LogArchive: m.Studio.LogArchive()}
	logging := fresh.Stack(n.LoggingStack())
	if logging == nil {
		return
	}
	for _, b := range logging.OfType("AWS::S3::Bucket") {
		if b.Name() != n.LogArchiveBucket() {
			continue
		}
		var policy *Doc
		for _, p := range fresh.Policies() {
			if p.Kind == cfn.Bucket && slices.Contains(p.Targets, b) {
				policy = docOf(p)
			}
		}
		for _, p := range m.Productions {
			sc := e.Scopes[p.Name]
			if sc == nil {
				continue
			}
			prefix := names.SessionLogPrefix(p.Account, p.Name)
			sc.Archives = append(sc.Archives, &Target{Kind: "session-archive", ARN: "arn:aws:s3:::" + b.Name() + "/" + prefix,
				Label: b.Name() + "/" + prefix, Account: logging.Account, Region: logging.Region, Owners: []string{p.Name}, Resource: b, Policy: policy})
		}
	}
}

// scope reads one production's or pool's stack.
func (e *Estate) scope(name string, s *cfn.Stack) *Scope {
	a := e.Assembly
	sc := &Scope{Name: name, Stack: s, Account: s.Account, Region: s.Region, Endpoints: e.endpoints(s)}
	if name, pooled := e.poolOf(s); pooled {
		sc.Pool = name
	}
	for _, r := range s.OfType("AWS::KMS::Key") {
		t := &Target{Kind: "key", ARN: s.String(map[string]any{"Fn::GetAtt": []any{r.ID, "Arn"}}), Account: s.Account, Region: s.Region,
			Owners: []string{name}, Resource: r, Policy: e.policy(r, cfn.Key)}
		if strings.HasPrefix(name, names.PoolPrefix) {
			t.Owners, t.Pool = nil, name
		}
		for _, al := range a.Resources("AWS::KMS::Alias") {
			if al.Resolve("TargetKeyId") == r {
				t.Aliases = append(t.Aliases, al.Name())
			}
		}
		slices.Sort(t.Aliases)
		t.Label = strings.Join(t.Aliases, ", ")
		if t.Label == "" {
			t.Label = r.String()
		}
		if len(t.Aliases) > 0 {
			t.Purpose = t.Aliases[0][strings.LastIndex(t.Aliases[0], "/")+1:]
		}
		sc.Keys = append(sc.Keys, t)
	}
	for _, r := range s.OfType("AWS::S3::Bucket") {
		if !strings.Contains(r.Name(), "-assets-") {
			continue
		}
		t := &Target{Kind: "assets", ARN: "arn:aws:s3:::" + r.Name(), Label: r.Name(), Account: s.Account, Region: s.Region,
			Owners: []string{name}, Resource: r,
			AssetKey: s.String(r.Prop("BucketEncryption.ServerSideEncryptionConfiguration[0].ServerSideEncryptionByDefault.KMSMasterKeyID"))}
		for _, p := range a.Policies() {
			if p.Kind == cfn.Bucket && slices.Contains(p.Targets, r) {
				t.Policy = docOf(p)
			}
		}
		sc.Assets = append(sc.Assets, t)
	}
	for _, r := range s.OfType("AWS::IAM::Role") {
		if r.Name() == "" {
			continue // only roles with a fixed name are assumed by people or other accounts
		}
		sc.Roles = append(sc.Roles, &Target{Kind: "role", ARN: s.String(map[string]any{"Fn::GetAtt": []any{r.ID, "Arn"}}), Label: r.Name(),
			Account: s.Account, Region: s.Region, Owners: ownersOf(name), Pool: poolName(name), Resource: r, Policy: e.policy(r, cfn.Trust)})
	}
	for _, r := range s.OfType("AWS::EC2::LaunchTemplate") {
		arn := fmt.Sprintf("arn:aws:ec2:%s:%s:launch-template/%s", s.Region, s.Account, s.String(map[string]any{"Ref": r.ID}))
		sc.Templates = append(sc.Templates, &Target{Kind: "launch-template", ARN: arn, Label: r.Name(), Account: s.Account, Region: s.Region,
			Owners: []string{name}, Resource: r})
		for _, bd := range cfn.AsList(r.Prop("LaunchTemplateData.BlockDeviceMappings")) {
			if k := cfn.At(bd, "Ebs.KmsKeyId"); k != nil && !slices.Contains(sc.VolumeKeys, s.String(k)) {
				sc.VolumeKeys = append(sc.VolumeKeys, s.String(k))
			}
		}
	}
	return sc
}

func ownersOf(scope string) []string {
	if strings.HasPrefix(scope, names.PoolPrefix) {
		return nil
	}
	return []string{scope}
}

func poolName(scope string) string {
	if strings.HasPrefix(scope, names.PoolPrefix) {
		return scope
	}
	return ""
}

// readFrom are the resources of other stacks a stack's SSM-typed
// parameters read.
func (e *Estate) readFrom(s *cfn.Stack) []*cfn.Resource {
	var out []*cfn.Resource
	for _, id := range slices.Sorted(maps.Keys(s.Parameters)) {
		if r := s.Resolve(map[string]any{"Ref": id}); r != nil && r.Stack != s {
			out = append(out, r)
		}
	}
	return out
}

// poolOf names the pool a production's stack uses: the pool stack whose
// resources its SSM-typed parameters read.
func (e *Estate) poolOf(s *cfn.Stack) (string, bool) {
	prefix := e.Studio + "-" + names.PoolPrefix
	for _, r := range e.readFrom(s) {
		if strings.HasPrefix(r.Stack.Name, prefix) && !strings.HasSuffix(r.Stack.Name, names.LinkSuffix) {
			return strings.TrimPrefix(r.Stack.Name, e.Studio+"-"), true
		}
	}
	return "", false
}

// policy is the document of the given kind a resource holds, or nil.
func (e *Estate) policy(r *cfn.Resource, kind cfn.PolicyKind) *Doc {
	for _, p := range e.Assembly.PoliciesOf(r) {
		if p.Kind == kind {
			return docOf(p)
		}
	}
	return nil
}

// endpoints reads a stack's VPC endpoints, by service (s3, kms, sts...).
func (e *Estate) endpoints(s *cfn.Stack) map[string]*Endpoint {
	out := map[string]*Endpoint{}
	for _, r := range s.OfType("AWS::EC2::VPCEndpoint") {
		svc := s.String(r.Prop("ServiceName"))
		svc = strings.TrimPrefix(svc, "com.amazonaws."+s.Region+".")
		out[svc] = &Endpoint{ID: s.String(map[string]any{"Ref": r.ID}), VPC: s.String(r.Prop("VpcId")), Service: svc, Doc: e.policy(r, cfn.Endpoint)}
	}
	return out
}

// rolePrincipals are the roles of a stack as principals of the scope.
func (e *Estate) rolePrincipals(sc *Scope, s *cfn.Stack, kind string) []*Principal {
	var out []*Principal
	for _, r := range s.OfType("AWS::IAM::Role") {
		tags, _ := r.Tags()
		p := &Principal{Label: r.Name(), ARN: s.String(map[string]any{"Fn::GetAtt": []any{r.ID, "Arn"}}), Account: s.Account,
			Kind: kind, Production: sc.Name, Role: r, Tags: tags}
		if p.Label == "" {
			p.Label = r.String()
		}
		if p.Kind == "" {
			p.Kind = roleKind(e.Studio, sc.Name, r)
		}
		for _, pol := range e.Assembly.RolePolicies(r) {
			p.Identity = append(p.Identity, docOf(pol))
		}
		for _, name := range r.ManagedPolicyNames() {
			d, how := managedDoc(name)
			p.Identity = append(p.Identity, d)
			p.Modelled = append(p.Modelled, how)
		}
		for _, pol := range e.Assembly.Policies() {
			if pol.Kind == cfn.Boundary && slices.Contains(pol.Roles, r) {
				p.Boundary = append(p.Boundary, docOf(pol))
			}
		}
		if d := e.bootstrapBoundary(s, r); d != nil {
			p.Boundary = append(p.Boundary, d)
		}
		out = append(out, p)
	}
	return out
}

// hubPrincipals are the named roles of the management account's network
// stack: the scheduler's role (kind scheduler) and the others by name.
func (e *Estate) hubPrincipals(hub *cfn.Stack) []*Principal {
	var out []*Principal
	for _, p := range e.rolePrincipals(&Scope{}, hub, "management") {
		if p.Role.Name() == "" {
			continue
		}
		if p.Role.Name() == (names.Names{Studio: e.Studio}).Scheduler() {
			p.Kind = Scheduler
		}
		out = append(out, p)
	}
	return out
}

// roleKind is a fixed-name role's suffix (key-admin, render...), or
// "service role (<service>)" for a role a service assumes.
func roleKind(studio, scope string, r *cfn.Resource) string {
	if name := r.Name(); strings.HasPrefix(name, studio+"-"+scope+"-") {
		return strings.TrimPrefix(name, studio+"-"+scope+"-")
	}
	for _, p := range r.Stack.Assembly().PoliciesOf(r) {
		for _, st := range p.Statements {
			if p.Kind == cfn.Trust && st.Principal != nil && len(st.Principal.Service) > 0 {
				return "service role (" + strings.TrimSuffix(st.Principal.Service[0], ".amazonaws.com") + ")"
			}
		}
	}
	return "role"
}

// modelled are the principals the templates do not hold: the management
// account's unnamed roles, the administrators of shared accounts and the
// roles they could create, the CDK deploy roles, the named schedulers.
func (e *Estate) modelled() []*Principal {
	admin, adminHow := managedDoc("AdministratorAccess")
	out := []*Principal{{Label: "any admin role of the management account", ARN: names.RoleArn(e.Management, "management-admin"),
		Account: e.Management, Kind: ManagementAdmin, Identity: []*Doc{admin},
		Modelled: []string{"an unnamed role of the management account: " + adminHow}}}
	perAccount := map[string][]string{}
	regions := map[string]string{}
	for _, name := range slices.Sorted(maps.Keys(e.Scopes)) {
		sc := e.Scopes[name]
		regions[sc.Account] = sc.Region
		if !strings.HasPrefix(name, names.PoolPrefix) {
			perAccount[sc.Account] = append(perAccount[sc.Account], name)
		}
	}
	for _, acct := range slices.Sorted(maps.Keys(regions)) {
		if len(perAccount[acct]) >= 2 {
			out = append(out,
				&Principal{Label: "admin of shared account " + acct, ARN: names.RoleArn(acct, "shared-account-admin"), Account: acct,
					Kind: SharedAdmin, Identity: []*Doc{admin},
					Modelled: []string{"a role of " + acct + " (shared by " + strings.Join(perAccount[acct], ", ") + ") for unrelated work: " + adminHow}},
				&Principal{Label: "role a shared account's admin names like a render role", ARN: names.RoleArn(acct, names.Role(e.Studio+"-intruder", names.Render)),
					Account: acct, Kind: LookAlike, Identity: []*Doc{admin}, Tags: map[string]string{"Production": perAccount[acct][0]},
					Modelled: []string{"a role the admin of " + acct + " creates, named like a production's render role and tagged Production " + perAccount[acct][0] + ": " + adminHow}})
		}
		out = append(out, e.deployRole(acct, regions[acct]))
	}
	if bg := e.Manifests.Studio.BreakGlassRole; bg != "" {
		keys := &Doc{Name: "modelled/break-glass", Policy: map[string]any{"Version": "2012-10-17",
			"Statement": []any{map[string]any{"Sid": "AdministerKeys", "Effect": "Allow", "Action": "kms:PutKeyPolicy", "Resource": "*"}}}}
		for _, acct := range slices.Sorted(maps.Keys(regions)) {
			out = append(out, &Principal{Label: "break-glass role of " + acct, ARN: names.RoleArn(acct, bg), Account: acct, Kind: BreakGlass,
				Identity: []*Doc{keys}, Modelled: []string{"the role studio.yaml names in breakGlassRole, allowed kms:PutKeyPolicy on *"}})
		}
	}
	out = append(out, e.people()...)
	assume := &Doc{Name: "modelled/scheduler", Policy: map[string]any{"Version": "2012-10-17",
		"Statement": []any{map[string]any{"Sid": "AssumeLaunchers", "Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"}}}}
	for _, arn := range e.Manifests.Studio.Scheduler.Launchers {
		acct := strings.Split(arn, ":")
		if len(acct) < 5 {
			continue
		}
		out = append(out, &Principal{Label: "scheduler " + arn[strings.LastIndex(arn, "/")+1:], ARN: arn, Account: acct[4], Kind: Scheduler,
			Identity: []*Doc{assume}, Modelled: []string{"a role studio.yaml names in scheduler.launchers, allowed sts:AssumeRole on *"}})
	}
	return out
}

// deployRole is the CloudFormation execution role of renderenv's bootstrap
// (internal/bootstrap, `renderenv bootstrap`) in an account: the generated
// execution policy inside the generated boundary, as IAM holds them there.
func (e *Estate) deployRole(acct, region string) *Principal {
	q := e.Manifests.Studio.BootstrapQualifier()
	studio := e.Manifests.Studio.Studio
	return &Principal{Label: "CDK deploy role of " + acct, ARN: names.RoleArn(acct, fmt.Sprintf("cdk-%s-cfn-exec-role-%s-%s", q, acct, region)),
		Account: acct, Kind: DeployRole,
		Identity: []*Doc{{Name: "bootstrap/execution-policy/" + acct, Policy: bootstrap.Substitute(bootstrap.ExecutionPolicy(studio, q), acct, region, q)}},
		Boundary: []*Doc{{Name: "bootstrap/boundary/" + acct, Policy: bootstrap.Substitute(bootstrap.Boundary(studio, q), acct, region, q)}},
		Modelled: []string{"the CDK bootstrap's CloudFormation execution role as renderenv bootstrap makes it: the generated execution policy inside the generated boundary"}}
}

// bootstrapBoundary is the boundary renderenv bootstrap creates in the
// role's account, when the role names it (every role of the estate but
// those with a boundary of their own), or nil.
func (e *Estate) bootstrapBoundary(s *cfn.Stack, r *cfn.Resource) *Doc {
	q := e.Manifests.Studio.BootstrapQualifier()
	if s.String(r.Properties["PermissionsBoundary"]) != "arn:aws:iam::"+s.Account+":policy/"+bootstrap.BoundaryName(q) {
		return nil
	}
	return &Doc{Name: "bootstrap/boundary/" + s.Account, Policy: bootstrap.Substitute(bootstrap.Boundary(e.Studio, q), s.Account, s.Region, q)}
}

// ssoSuffix stands for the suffix Identity Center ends its role names with.
const ssoSuffix = "0123456789abcdef"

// people are the principals the manifests' people lists name, one per
// person and role they are named for: an Identity Center permission set's
// role (with its instance's region in the path) or a named role of the
// management account, allowed sts:AssumeRole on *.
func (e *Estate) people() []*Principal {
	st := &e.Manifests.Studio
	assume := &Doc{Name: "modelled/person", Policy: map[string]any{"Version": "2012-10-17",
		"Statement": []any{map[string]any{"Sid": "AssumeRoles", "Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"}}}}
	var out []*Principal
	add := func(scope, suffix string, people []manifest.Person) {
		for _, p := range people {
			arn, label := p.RoleArn, p.RoleArn
			if p.SSO() {
				arn = fmt.Sprintf("arn:aws:iam::%s:role/aws-reserved/sso.amazonaws.com/%s/AWSReservedSSO_%s_%s", e.Management, st.Region, p.PermissionSet, ssoSuffix)
				label = "permission set " + p.PermissionSet
			}
			out = append(out, &Principal{Label: label + " (" + scope + " " + suffix + ")", ARN: arn, Account: e.Management, Kind: Person,
				Production: scope, Assumes: suffix, SSO: p.SSO(), Identity: []*Doc{assume},
				Modelled: []string{"a person the manifests name for " + scope + "'s " + suffix + ", allowed sts:AssumeRole on *"}})
		}
	}
	for _, r := range e.Manifests.Productions {
		if e.Scopes[r.Name] == nil {
			continue
		}
		crew := st.CrewOf(&r.Production)
		add(r.Name, names.KeyAdmin, crew.KeyAdmins)
		add(r.Name, names.DataOperator, crew.DataOperators)
		add(r.Name, names.LogReader, crew.LogReaders)
	}
	for _, pool := range st.Pools {
		if name := names.PoolPrefix + pool.Account; e.Scopes[name] != nil {
			add(name, names.KeyAdmin, st.PoolKeyAdmins())
		}
	}
	// Whoever administers Identity Center can create permission sets: one
	// named like a person's, plus a suffix, matches no trust.
	for _, p := range out {
		if p.SSO {
			like := *p
			like.ARN = strings.Replace(p.ARN, "_"+ssoSuffix, "_x_"+ssoSuffix, 1)
			like.Label, like.Production, like.Assumes = "permission set named like "+strings.TrimPrefix(p.Label, "permission set "), "", ""
			like.Modelled = []string{"a permission set named like one the manifests name, plus a suffix, allowed sts:AssumeRole on *"}
			out = append(out, &like)
			break
		}
	}
	return out
}
