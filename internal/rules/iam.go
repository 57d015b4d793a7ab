package rules

import (
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
