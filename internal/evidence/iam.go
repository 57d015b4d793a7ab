package evidence

import (
	"fmt"
	"maps"
	"net/netip"
	"slices"
	"sort"
	"strings"

	"github.com/renderenv/renderenv/internal/cfn"
	"github.com/renderenv/renderenv/internal/manifest"
	"github.com/renderenv/renderenv/internal/names"
)

// Account and identity checks: ISE 1.1 to 1.6, 7.1, 10.1.

// checkAccount: the production's account holds no management, logging or
// (where the tier asks) other production work (ISE 1.1). Accounts are a
// property of the stack's environment, which the manifests fix; the
// templates are checked to name no other production's account.
func checkAccount(v *view) result {
	acct := v.r.Account
	var problems []string
	if acct == v.studio.ManagementAccount {
		problems = append(problems, "the production shares the management account "+acct)
	}
	if acct == v.studio.LogArchive() {
		problems = append(problems, "the production shares the log-archive account "+acct)
	}
	var sharers []string
	otherAccounts := map[string]string{}
	for _, o := range v.others() {
		if o.Account == acct {
			sharers = append(sharers, o.Name)
		} else {
			otherAccounts[o.Account] = o.Name
		}
	}
	// What the production's templates name: its account, management and
	// log archive, never another production's account.
	type naming struct {
		r          *cfn.Resource
		path, text string
	}
	named := map[string]naming{}
	for _, t := range v.own() {
		for _, r := range t.All() {
			if r.Type == "AWS::CDK::Metadata" || r.Type == "AWS::Lambda::Function" {
				continue
			}
			found := map[string][2]string{}
			accountsIn(r.Properties, "", found)
			for a, where := range found {
				if _, seen := named[a]; !seen {
					named[a] = naming{r, where[0], where[1]}
				}
			}
		}
	}
	var e []Evidence
	for _, a := range slices.Sorted(maps.Keys(named)) {
		n := named[a]
		switch {
		case a == acct:
			e = append(e, ev(n.r, n.path, n.text+" (the production's own account)"))
		case a == v.studio.ManagementAccount:
			e = append(e, ev(n.r, n.path, n.text+" (management, trusted to assume roles)"))
		case a == v.studio.LogArchive():
			e = append(e, ev(n.r, n.path, n.text+" (log archive: the trail's bucket and key)"))
		case otherAccounts[a] != "":
			problems = append(problems, fmt.Sprintf("%s: %s names account %s of %s", cite(n.r), n.path, a, otherAccounts[a]))
		}
	}
	if len(problems) > 0 {
		return verdict("", problems, e)
	}
	dedicated := v.r.Policy.DedicatedAccount || v.r.Isolation.DedicatedAccount
	switch {
	case len(sharers) == 0:
		return passed(fmt.Sprintf("%s is deployed to account %s, which holds no other production and neither the management nor the log-archive stacks", v.prod, acct), e...)
	case dedicated:
		return failed(fmt.Sprintf("account %s also holds %s, but %s requires a dedicated account", acct, strings.Join(sharers, ", "), v.tierText()), e...)
	default:
		return result{outcome: Limited, evidence: e, detail: fmt.Sprintf("account %s also holds %s (%s allows a shared account); each has its own stack, roles and bucket", acct, strings.Join(sharers, ", "), v.tierText())}
	}
}

// checkTrust: every role of the production that another account can assume
// trusts only the management account (ISE 1.1, 7.1).
func checkTrust(v *view) result {
	var problems []string
	var e []Evidence
	mgmt := "arn:aws:iam::" + v.studio.ManagementAccount + ":root"
	n := 0
	for _, t := range v.own() {
		for _, role := range t.OfType("AWS::IAM::Role") {
			sts, principals := v.trustStatements(role)
			for i, st := range sts {
				n++
				for _, p := range principals[i] {
					if p != mgmt && p != v.studio.ManagementAccount {
						problems = append(problems, fmt.Sprintf("%s trusts %s", cite(role), p))
					}
				}
				e = append(e, ev(role, "AssumeRolePolicyDocument."+st.Label()+".Principal", strings.Join(principals[i], ", ")+" ("+cfn.Str(role.Properties["RoleName"])+")"))
			}
		}
	}
	if n == 0 {
		return failed("no role of " + v.prod + " can be assumed from the management account")
	}
	return verdict(fmt.Sprintf("people and the scheduler reach the production only by assuming its roles from the management account %s", v.studio.ManagementAccount), problems, e)
}

// humanTrust runs fn over each trust statement of each human role.
func (v *view) humanTrust(fn func(role *cfn.Resource, st cfn.Statement) (problem string, e *Evidence)) ([]string, []Evidence) {
	roles, problems := v.humanRoles()
	var e []Evidence
	for _, role := range roles {
		sts, _ := v.trustStatements(role)
		for _, st := range sts {
			p, x := fn(role, st)
			if p != "" {
				problems = append(problems, p)
			}
			if x != nil {
				e = append(e, *x)
			}
		}
	}
	return problems, e
}

// conditionValues returns the values a statement's condition gives key under
// any operator whose name contains op (e.g. "Bool", "IpAddress").
func conditionValues(st cfn.Statement, op, key string) []string {
	return st.Values(func(o string) bool { return strings.Contains(o, op) }, key)
}

// ifExists reports whether any operator of the statement's condition ends
// in IfExists (and so matches requests that lack the key).
func ifExists(st cfn.Statement) bool {
	for op := range st.Condition {
		if strings.HasSuffix(op, "IfExists") {
			return true
		}
	}
	return false
}

// checkHumanMfa: people's roles need MFA (ISE 1.5).
func checkHumanMfa(v *view) result {
	var sso []string
	problems, e := v.humanTrust(func(role *cfn.Resource, st cfn.Statement) (string, *Evidence) {
		p := "AssumeRolePolicyDocument." + st.Label() + ".Condition."
		if anyOf(conditionValues(st, "Bool", "aws:MultiFactorAuthPresent"), func(x string) bool { return strings.EqualFold(x, "true") }) && !ifExists(st) {
			x := ev(role, p+"Bool.aws:MultiFactorAuthPresent", "true ("+roleName(role)+")")
			return "", &x
		}
		if age := conditionValues(st, "NumericLessThan", "aws:MultiFactorAuthAge"); len(age) > 0 {
			x := ev(role, p+"NumericLessThan.aws:MultiFactorAuthAge", strings.Join(age, ", ")+" ("+roleName(role)+")")
			return "", &x
		}
		// Identity Center sessions carry no MFA key; Identity Center
		// requires MFA when people sign in, which no template can show.
		if arns := principalArns(st); len(arns) > 0 && !ifExists(st) && !slices.ContainsFunc(arns, func(a string) bool { return !strings.Contains(a, identityCenterPath) }) {
			sso = append(sso, roleName(role))
			x := ev(role, p+"ArnLike.aws:PrincipalArn", strings.Join(arns, ", ")+" ("+roleName(role)+")")
			return "", &x
		}
		return fmt.Sprintf("%s can be assumed without MFA", cite(role)), nil
	})
	r := verdict("the key-admin, data-operator and log-reader roles can be assumed only with MFA", problems, e)
	if r.outcome == Pass && len(sso) > 0 {
		r.outcome = Limited
		r.detail = fmt.Sprintf("named roles must carry MFA in their sessions; %s trust Identity Center permission sets, whose sessions carry no MFA key: MFA is Identity Center's to require at every sign-in", strings.Join(slices.Compact(sso), ", "))
	}
	return r
}

// identityCenterPath is where IAM Identity Center puts the roles of its
// permission sets; only Identity Center creates roles there.
const identityCenterPath = ":role/aws-reserved/sso.amazonaws.com/"

// principalArns are the aws:PrincipalArn values a trust statement names
// with ArnEquals or ArnLike.
func principalArns(st cfn.Statement) []string {
	return st.Values(func(op string) bool { return op == "ArnEquals" || op == "ArnLike" }, "aws:PrincipalArn")
}

// checkHumanPrincipals: each people role trusts exactly the people the
// manifests name for it (ISE 1.3, 7.1).
func checkHumanPrincipals(v *view) result {
	crew := v.studio.CrewOf(&v.r.Production)
	want := map[string][]manifest.Person{names.KeyAdmin: crew.KeyAdmins, names.DataOperator: crew.DataOperators, names.LogReader: crew.LogReaders}
	var problems []string
	var e []Evidence
	for _, suffix := range humanRoleSuffixes {
		role, name := v.humanRoleBySuffix(suffix)
		if role == nil {
			problems = append(problems, "no role named "+name+" in "+v.prod)
			continue
		}
		var expected []string
		for _, p := range want[suffix] {
			expected = append(expected, p.PrincipalArns(v.studio.ManagementAccount)...)
		}
		sts, _ := v.trustStatements(role)
		var got []string
		for _, st := range sts {
			if !st.Allow() {
				continue
			}
			arns := principalArns(st)
			if len(arns) == 0 || ifExists(st) {
				problems = append(problems, fmt.Sprintf("%s: %s lets anyone its principal names assume it", cite(role), st.Label()))
			}
			got = append(got, arns...)
			e = append(e, ev(role, "AssumeRolePolicyDocument."+st.Label()+".Condition.aws:PrincipalArn", strings.Join(arns, ", ")+" ("+roleName(role)+")"))
		}
		slices.Sort(got)
		slices.Sort(expected)
		if !slices.Equal(slices.Compact(got), slices.Compact(expected)) {
			problems = append(problems, fmt.Sprintf("%s trusts %s; the manifests name %s", cite(role), strings.Join(got, ", "), strings.Join(expected, ", ")))
		}
	}
	return verdict("each people role trusts only the principals the manifests name for it (people in studio.yaml or the production's manifest)", problems, e)
}

// checkHumanSourceIp: people's roles can be assumed only from the studio's
// admin ranges (ISE 1.3).
func checkHumanSourceIp(v *view) result {
	var allowed []netip.Prefix
	for _, p := range v.studio.AdminSourceCidrs {
		allowed = append(allowed, p.Masked())
	}
	problems, e := v.humanTrust(func(role *cfn.Resource, st cfn.Statement) (string, *Evidence) {
		ips := conditionValues(st, "IpAddress", "aws:SourceIp")
		if len(ips) == 0 || ifExists(st) {
			return fmt.Sprintf("%s can be assumed from any address", cite(role)), nil
		}
		for _, ip := range ips {
			p, err := netip.ParsePrefix(ip)
			if err != nil {
				return fmt.Sprintf("%s: aws:SourceIp %q is not a range", cite(role), ip), nil
			}
			inside := false
			for _, a := range allowed {
				if a.Contains(p.Addr()) && p.Bits() >= a.Bits() {
					inside = true
				}
			}
			if !inside {
				return fmt.Sprintf("%s can be assumed from %s, outside adminSourceCidrs", cite(role), ip), nil
			}
		}
		x := ev(role, "AssumeRolePolicyDocument."+st.Label()+".Condition.IpAddress.aws:SourceIp", strings.Join(ips, ", ")+" ("+roleName(role)+")")
		return "", &x
	})
	return verdict("the key-admin, data-operator and log-reader roles can be assumed only from the studio's admin ranges", problems, e)
}

// checkHumanSessionLength: people's sessions last an hour at most (ISE 1.4).
func checkHumanSessionLength(v *view) result {
	roles, problems := v.humanRoles()
	var e []Evidence
	for _, role := range roles {
		d, ok := cfn.Number(role.Properties["MaxSessionDuration"])
		if !ok {
			d = 3600 // IAM's default
		}
		if d > 3600 {
			problems = append(problems, fmt.Sprintf("%s allows sessions of %v seconds", cite(role), d))
			continue
		}
		e = append(e, ev(role, "MaxSessionDuration", fmt.Sprintf("%v (%s)", d, roleName(role))))
	}
	return verdict("sessions on the production's people roles expire after one hour at most", problems, e)
}

// Actions that change stacks or identities: the authority to deploy.
var deployActions = []string{
	"cloudformation:CreateStack", "cloudformation:UpdateStack", "cloudformation:DeleteStack",
	"cloudformation:ExecuteChangeSet", "iam:CreateRole", "iam:PutRolePolicy", "iam:AttachRolePolicy",
	"iam:UpdateAssumeRolePolicy", "iam:CreateUser", "iam:CreateAccessKey", "iam:CreatePolicyVersion",
	"kms:PutKeyPolicy", "s3:PutBucketPolicy", "ec2:AuthorizeSecurityGroupIngress", "ec2:CreateRoute",
}

// checkDeployAuthority: no role the templates create can change stacks,
// identities or the network, so deploying (CloudFormation, through the
// CDK's bootstrap roles) stays apart from operating (ISE 1.6).
func checkDeployAuthority(v *view) result {
	var problems []string
	roles := 0
	for _, t := range v.own() {
		machinery := customResourceRoles(t)
		for _, role := range t.OfType("AWS::IAM::Role") {
			if machinery[role] {
				continue // deployment machinery: CloudFormation invokes it
			}
			roles++
			name := roleName(role)
			for _, g := range v.roleGrants(role) {
				for _, a := range grantsAny(g.st, deployActions) {
					// The key administrators' job is key policies: the
					// production's, and its pool's for the pooled keys.
					if a == "kms:PutKeyPolicy" && (name == names.Role(v.prod, names.KeyAdmin) || v.pool != "" && name == names.Role(v.pool, names.KeyAdmin)) {
						continue
					}
					problems = append(problems, fmt.Sprintf("%s lets %s %s", cite(g.source), name, a))
				}
			}
		}
	}
	var e []Evidence
	for _, t := range v.own() {
		if t.Description != "" {
			e = append(e, Evidence{Stack: t.Name, LogicalID: "(template)", Type: "AWS::CloudFormation::Stack", Property: "Description", Value: t.Description})
		}
	}
	return verdict(fmt.Sprintf("none of the %d operating roles of the production may create or change stacks, roles, bucket policies, routes or security group rules: only CloudFormation deploys (custom resource providers, which only CloudFormation invokes, are part of deploying)", roles), problems, e)
}

// customResourceRoles are the roles of the Lambda functions that serve the
// custom resources of a stack: deployment machinery.
func customResourceRoles(t *cfn.Stack) map[*cfn.Resource]bool {
	out := map[*cfn.Resource]bool{}
	for _, r := range t.All() {
		if !strings.HasPrefix(r.Type, "Custom::") && r.Type != "AWS::CloudFormation::CustomResource" {
			continue
		}
		fn := r.Resolve("ServiceToken")
		if fn == nil || fn.Type != "AWS::Lambda::Function" {
			continue
		}
		if role := fn.Resolve("Role"); role != nil {
			out[role] = true
		}
	}
	return out
}

// checkGenerated: the production's stacks are what renderenv generates from
// its manifest, built from the same parts as every production of the same
// shape (dedicated or pooled network and keys), so that no production is
// missing a safeguard the others have (ISE 1.6).
func checkGenerated(v *view) result {
	var problems []string
	var e []Evidence
	for _, name := range []string{v.prod, v.pool, v.link} {
		if name == "" {
			continue
		}
		t := v.t(name)
		if t.Description == "" {
			problems = append(problems, name+" has no description: it was not generated by renderenv")
			continue
		}
		e = append(e, Evidence{Stack: name, LogicalID: "(template)", Type: "AWS::CloudFormation::Stack", Property: "Description", Value: t.Description})
	}
	if desc := v.t(v.prod).Description; desc != "" && !strings.Contains(desc, v.r.Name) {
		problems = append(problems, fmt.Sprintf("%s's description does not name %s: %q", v.prod, v.r.Name, desc))
	}
	sh := v.shapes[shapeOf(v.r)]
	mine := sh.types[v.prod]
	var peers []string
	for _, name := range sh.stacks {
		if name != v.prod {
			peers = append(peers, name)
		}
	}
	for _, ty := range slices.Sorted(maps.Keys(sh.having)) {
		if mine[ty] {
			continue
		}
		for _, name := range sh.having[ty] {
			problems = append(problems, fmt.Sprintf("%s has no %s, which %s has", v.prod, ty, name))
		}
	}
	detail := fmt.Sprintf("%s is generated by renderenv from %s.yaml", v.prod, v.r.Name)
	if len(peers) > 0 {
		detail += fmt.Sprintf(", with every kind of resource that %s (productions of the same shape) have", strings.Join(peers, ", "))
	}
	return verdict(detail, problems, e)
}

// shapeOf is what makes productions alike for checkGenerated: whether they
// use a pooled VPC and pooled keys, whether they are closing (no compute),
// and whether they ingest through a DataSync agent (its task, locations
// and log policy).
func shapeOf(r manifest.Resolved) string {
	agent := r.Ingest != nil && r.Ingest.DataSyncAgentArn != ""
	return fmt.Sprint(r.PooledVpc, r.PooledRootKey || r.PooledAssetKey || r.PooledLoggingKey, r.Closing(), agent)
}

// shape is the production stacks of one shape and their resource types.
type shape struct {
	stacks []string                   // in manifest order
	types  map[string]map[string]bool // stack -> types
	having map[string][]string        // type -> the stacks that have it
}

// shapes gathers the production stacks of the assembly by shape, once for
// every pack: each pack compares its stack with the others of its shape.
func shapes(a *cfn.Assembly, studio string, all []manifest.Resolved) map[string]*shape {
	out := map[string]*shape{}
	for _, r := range all {
		st := a.Stack(names.Names{Studio: studio}.ProductionStack(r.Name))
		if st == nil {
			continue
		}
		sh := out[shapeOf(r)]
		if sh == nil {
			sh = &shape{types: map[string]map[string]bool{}, having: map[string][]string{}}
			out[shapeOf(r)] = sh
		}
		sh.stacks = append(sh.stacks, st.Name)
		sh.types[st.Name] = map[string]bool{}
		for _, res := range st.All() {
			if !sh.types[st.Name][res.Type] {
				sh.types[st.Name][res.Type] = true
				sh.having[res.Type] = append(sh.having[res.Type], st.Name)
			}
		}
	}
	return out
}

// checkLauncher: the scheduler's launcher role may launch only this
// production's templates, pass only the render role, and stop or terminate
// only its nodes (ISE 7.1, 10.1).
func checkLauncher(v *view) result {
	role, name := v.humanRoleBySuffix("launcher")
	if role == nil {
		return failed("no launcher role " + name + " in " + v.prod)
	}
	var problems []string
	var e []Evidence
	render := map[string]bool{}
	for _, r := range v.renderRoles() {
		render[arn(r)] = true
	}
	for _, g := range v.roleGrants(role) {
		st := g.st
		if !st.Allow() {
			continue
		}
		p := g.prop
		switch {
		case st.Grants("ec2:RunInstances") || st.Grants("ec2:CreateFleet"):
			lt := conditionValues(st, "ArnLike", "ec2:LaunchTemplate")
			onTemplates := len(st.Resource) > 0 && anyOf(st.Resource, func(r string) bool { return strings.Contains(r, ":launch-template/") })
			if len(lt) == 0 && !onTemplates {
				problems = append(problems, fmt.Sprintf("%s: %s lets the launcher run instances from any template", cite(g.source), p))
				continue
			}
			e = append(e, ev(g.source, p, "launch only from this production's launch templates"))
		case st.Grants("iam:PassRole"):
			svc := conditionValues(st, "StringEquals", "iam:PassedToService")
			ok := len(st.Resource) > 0
			for _, r := range st.Resource {
				if !render[r] {
					ok = false
				}
			}
			if !ok || len(svc) == 0 {
				problems = append(problems, fmt.Sprintf("%s: %s lets the launcher pass roles other than the render role, or to any service", cite(g.source), p))
				continue
			}
			e = append(e, ev(g.source, p, "pass only the render role, only to "+strings.Join(svc, ", ")))
		case st.Grants("ec2:TerminateInstances") || st.Grants("ec2:StopInstances"):
			tag := conditionValues(st, "StringEquals", "aws:ResourceTag/Production")
			if len(tag) == 0 {
				problems = append(problems, fmt.Sprintf("%s: %s lets the launcher stop or terminate any instance", cite(g.source), p))
				continue
			}
			e = append(e, ev(g.source, p, "stop and terminate only instances tagged Production="+strings.Join(tag, ",")))
		case st.Grants("ec2:CreateTags"):
			if len(conditionValues(st, "StringEquals", "ec2:CreateAction")) == 0 {
				problems = append(problems, fmt.Sprintf("%s: %s lets the launcher retag existing resources", cite(g.source), p))
				continue
			}
			e = append(e, ev(g.source, p, "tag only at launch"))
		}
	}
	e = append(e, ev(role, "MaxSessionDuration", role.Properties["MaxSessionDuration"]))
	return verdict(fmt.Sprintf("the scheduler assumes %s, which launches only this production's templates, passes only its render role and ends only its nodes", name), problems, e)
}

// checkBoundaries: render nodes run as a role capped by a permissions
// boundary (ISE 7.1; RE-IAM-004 judges every node role). The boundary is
// cited.
func checkBoundaries(v *view) result {
	roles := v.renderRoles()
	if len(roles) == 0 {
		return failed("the launch templates of " + v.prod + " have no render role")
	}
	var e []Evidence
	for _, r := range roles {
		if b := r.Resolve("PermissionsBoundary"); b != nil {
			e = append(e, ev(r, "PermissionsBoundary", b.ID+" ("+cfn.Str(b.Properties["ManagedPolicyName"])+")"))
		}
	}
	return passed("the render role is capped by a permissions boundary, whatever policies are added to it later", e...)
}

// checkNoAdminGrants: no role gets every action, or every action of a
// service, on every resource, nor an administrator policy (ISE 7.1;
// RE-IAM-002 judges every identity policy).
func checkNoAdminGrants(v *view) result {
	n := 0
	for _, t := range v.sgStacks() {
		n += len(t.OfType("AWS::IAM::Role"))
	}
	return passed(fmt.Sprintf("none of the %d roles of the production and its link holds a wildcard service grant on every resource or an administrator policy", n))
}

// checkSchedulerPorts: render nodes reach the scheduler only on its TLS
// ports (supports ISE 10.2, 10.3).
func checkSchedulerPorts(v *view) result {
	ports := map[float64]bool{}
	var list []string
	for _, p := range v.studio.Scheduler.Ports {
		ports[float64(p)] = true
		list = append(list, fmt.Sprint(p))
	}
	var e []Evidence
	render := map[*cfn.Resource]bool{}
	for _, g := range v.renderGroups() {
		render[g] = true
	}
	mgmt := v.studio.ManagementVpcCidr.Masked()
	for _, r := range sgRules(v.own(), true) {
		from, _ := cfn.Number(r.m["FromPort"])
		to, _ := cfn.Number(r.m["ToPort"])
		dest, err := netip.ParsePrefix(r.res.Stack.String(r.m["CidrIp"]))
		if render[r.res] && ports[from] && from == to && err == nil && mgmt.Contains(dest.Addr()) {
			e = append(e, ev(r.res, r.prop, r.text()))
		}
	}
	for _, r := range v.t(v.link).OfType("AWS::EC2::SecurityGroupIngress") {
		from, _ := cfn.Number(r.Properties["FromPort"])
		if ports[from] {
			e = append(e, ev(r, "rule", sgRule{r, "rule", r.Properties}.text()))
		}
	}
	sort.Slice(e, func(i, j int) bool { return e[i].String() < e[j].String() })
	if len(e) == 0 {
		return result{outcome: NotUsed, detail: "no scheduler port is opened between the production and management"}
	}
	return passed(fmt.Sprintf("render nodes and the scheduler meet only on scheduler.ports (%s), which the studio serves with TLS", strings.Join(list, ", ")), e...)
}

// checkBatchUnused: the estate deploys no AWS Batch resources (ISE 6.x).
func checkBatchUnused(v *view) result {
	var found []string
	for _, r := range v.ofType(v.types("AWS::Batch::")...) {
		found = append(found, cite(r))
	}
	if len(found) > 0 {
		return failed("AWS Batch resources are present but this report does not evaluate them; review them by hand: " + strings.Join(found, ", "))
	}
	return result{outcome: NotUsed, detail: "no AWS::Batch resource in any stack: renderenv launches render nodes from EC2 launch templates through the studio's scheduler, not through AWS Batch"}
}
