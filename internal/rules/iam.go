package rules

import (
	"fmt"
	"slices"
	"strings"

	"github.com/renderenv/renderenv/internal/cfn"
)

// IAM rules: ISE 7.1, 9.3.

func init() {
	register(
		Rule{ID: "RE-IAM-001", Controls: []string{"9.3"},
			Description: "No IAM role both administers KMS keys and uses them for data, and none is allowed kms:*, * or everything but a list (NotAction)",
			Check:       checkRolesSeparateKeyAdminFromUse},
		Rule{ID: "RE-IAM-002", Controls: []string{"7.1"},
			Description: "No identity policy allows every action, or every action of a service, on every resource, and no role attaches AdministratorAccess, PowerUserAccess or IAMFullAccess",
			Check:       checkNoAdminGrants},
		Rule{ID: "RE-IAM-003", Controls: []string{"7.1"},
			Description: "No trust, bucket, topic or key policy allows everyone (Principal * or NotPrincipal) without a condition",
			Check:       checkNoAnonymousGrants},
		Rule{ID: "RE-IAM-004", Controls: []string{"7.1", "10.8"},
			Description: "Every role an instance profile gives to nodes is capped by a permissions boundary",
			Check:       checkNodeRolesBounded},
		Rule{ID: "RE-IAM-005", Controls: []string{"1.3", "7.1"},
			Description: "Every role another account may assume names who in that account: an aws:PrincipalArn condition (ArnEquals or ArnLike, never IfExists) whose every value is a role of that account with a name, not a wildcard; a vendor's trust (sts:ExternalId), whose principals the vendor names, is RE-XCH-002's",
			Check:       checkCrossAccountTrustNamesPrincipals},
	)
}

func checkRolesSeparateKeyAdminFromUse(a *cfn.Assembly, report Reporter) {
	for _, role := range a.Resources("AWS::IAM::Role") {
		var admin, use []string
		for _, p := range a.RolePolicies(role) {
			for _, st := range p.Statements {
				if !st.Allow() {
					continue
				}
				wildcardActions(p, st, report)
				if len(st.CoveredOf(kmsAdminActions)) > 0 {
					admin = append(admin, p.Resource.ID+"."+p.StatementPath(st))
				}
				if len(st.CoveredOf(kmsDataActions)) > 0 {
					use = append(use, p.Resource.ID+"."+p.StatementPath(st))
				}
			}
		}
		if len(admin) > 0 && len(use) > 0 {
			report(role, "", "both administers keys (%s) and uses them for data (%s)", strings.Join(admin, ", "), strings.Join(use, ", "))
		}
	}
}

var adminPolicies = []string{"AdministratorAccess", "PowerUserAccess", "IAMFullAccess"}

func checkNoAdminGrants(a *cfn.Assembly, report Reporter) {
	for _, p := range a.Policies() {
		if p.Kind != cfn.Identity {
			continue
		}
		for _, st := range p.Statements {
			if !st.Allow() || !slices.Contains(st.Resource, "*") {
				continue
			}
			for _, act := range st.Action {
				if act == "*" || strings.HasSuffix(act, ":*") {
					report(p.Resource, p.StatementPath(st), "allows %s on every resource", act)
				}
			}
		}
	}
	for _, role := range a.Resources("AWS::IAM::Role") {
		for _, name := range role.ManagedPolicyNames() {
			if slices.Contains(adminPolicies, name) {
				report(role, "ManagedPolicyArns", "attaches %s", name)
			}
		}
	}
}

func checkNoAnonymousGrants(a *cfn.Assembly, report Reporter) {
	for _, p := range a.Policies() {
		switch p.Kind {
		case cfn.Trust, cfn.Bucket, cfn.Topic, cfn.Key:
		default:
			continue
		}
		for _, st := range p.Statements {
			everyone := st.NotPrincipal != nil || (st.Principal != nil && st.Principal.Wildcard)
			if st.Allow() && everyone && len(st.Condition) == 0 {
				report(p.Resource, p.StatementPath(st), "allows %s to everyone, with no condition", strings.Join(append(st.Action, st.NotAction...), ", "))
			}
		}
	}
}

func checkNodeRolesBounded(a *cfn.Assembly, report Reporter) {
	for _, ip := range a.Resources("AWS::IAM::InstanceProfile") {
		for _, role := range ip.ResolveAll("Roles") {
			if !cfn.Present(role.Properties["PermissionsBoundary"]) {
				report(role, "PermissionsBoundary", "not set: the role of instance profile %s can be granted anything later", ip.ID)
			}
		}
	}
}

// checkCrossAccountTrustNamesPrincipals: a trust that names another
// account's root lets every principal of that account whose own policies
// allow sts:AssumeRole in; aws:PrincipalArn narrows it to named roles.
func checkCrossAccountTrustNamesPrincipals(a *cfn.Assembly, report Reporter) {
	for _, p := range a.Policies() {
		if p.Kind != cfn.Trust || p.Resource.Stack.Account == "" {
			continue
		}
		for _, st := range p.Statements {
			// A vendor's own principals are the vendor's to name; RE-XCH-002
			// holds its role to an external id, a date and its prefix.
			if !st.Allow() || st.Principal == nil || vendorTrust(st) {
				continue
			}
			for _, acct := range trustedAccounts(st.Principal) {
				if acct == p.Resource.Stack.Account {
					continue
				}
				if problem := namedPrincipals(st, acct); problem != "" {
					report(p.Resource, p.StatementPath(st), "account %s may assume it: %s", acct, problem)
				}
			}
		}
	}
}

// trustedAccounts are the accounts a principal names whole: an account id
// or its root (everyone is RE-IAM-003's).
func trustedAccounts(p *cfn.Principal) []string {
	var out []string
	for _, v := range p.AWS {
		switch {
		case len(v) == 12 && strings.Trim(v, "0123456789") == "":
			out = append(out, v)
		case strings.HasPrefix(v, "arn:aws:iam::") && strings.HasSuffix(v, ":root"):
			out = append(out, strings.TrimSuffix(strings.TrimPrefix(v, "arn:aws:iam::"), ":root"))
		}
	}
	return out
}

// namedPrincipals says what is wrong with the statement's aws:PrincipalArn
// condition for account, or "".
func namedPrincipals(st cfn.Statement, acct string) string {
	ifExists := st.Values(func(op string) bool { return strings.HasSuffix(op, "IfExists") }, "aws:PrincipalArn")
	if len(ifExists) > 0 {
		return "an IfExists operator on aws:PrincipalArn also lets a request without it in"
	}
	arns := st.Values(func(op string) bool { return op == "ArnEquals" || op == "ArnLike" }, "aws:PrincipalArn")
	if len(arns) == 0 {
		return "no aws:PrincipalArn condition (ArnEquals or ArnLike) names who"
	}
	for _, arn := range arns {
		name := arn[strings.LastIndexByte(arn, '/')+1:]
		switch {
		case !strings.HasPrefix(arn, "arn:aws:iam::"+acct+":role/"):
			return fmt.Sprintf("%s is not a role of account %s", arn, acct)
		case strings.Contains(name, "*") || strings.Trim(name, "?") == "":
			return fmt.Sprintf("%s names no role: its name is a wildcard", arn)
		}
	}
	return ""
}
