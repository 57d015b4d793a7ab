package rules

import (
	"fmt"
	"slices"
	"strings"

	"github.com/renderenv/renderenv/internal/cfn"
)

// Exchange rules: the vendor exchange and the DR replica of reference 000
// (ISE 1.1, 5.1, 7.1, 9.1, 10.6).

func init() {
	register(
		Rule{ID: "RE-XCH-001", Controls: []string{"1.1", "5.1", "7.1"},
			Description: "No vendor principal outside the exchange stacks (stack tag DataPath exchange): no other stack holds a role trusted with sts:ExternalId, and no policy of another stack names an account a vendor role trusts",
			Check:       checkVendorsStayInTheExchange},
		Rule{ID: "RE-XCH-002", Controls: []string{"5.1", "7.1"},
			Description: "Every vendor role (trusted with sts:ExternalId) trusts one account's root, with sts:ExternalId and aws:CurrentTime DateLessThan, and may use S3 only on one prefix of one bucket (s3:ListBucket only with an s3:prefix condition inside it) and KMS only through S3",
			Check:       checkVendorRolesStayInTheirPrefix},
		Rule{ID: "RE-XCH-003", Controls: []string{"5.1", "10.6"},
			Description: "Every content bucket of a data path stack (the exchange bucket, the DR replica) refuses data access to every principal its policy does not name (aws:PrincipalArn), and an exchange bucket expires objects after at most 30 days",
			Check:       checkDataPathBuckets},
	)
}

// Data path stacks carry the DataPath tag (tagging.KeyDataPath).
const (
	dataPathTag      = "DataPath"
	dataPathExchange = "exchange"
	// maxExchangeDays is how long an exchange bucket may keep an object.
	maxExchangeDays = 30
)

// vendorTrust reports whether a trust statement admits a third party: it
// requires an external id.
func vendorTrust(st cfn.Statement) bool {
	return st.Allow() && len(st.Values(func(op string) bool { return !cfn.Negated(op) }, "sts:ExternalId")) > 0
}

// vendorRoles are the roles some trust statement of which requires an
// external id, with the accounts those statements trust.
func vendorRoles(a *cfn.Assembly) map[*cfn.Resource][]string {
	out := map[*cfn.Resource][]string{}
	for _, p := range a.Policies() {
		if p.Kind != cfn.Trust {
			continue
		}
		for _, st := range p.Statements {
			if vendorTrust(st) {
				out[p.Resource] = append(out[p.Resource], trustedAccounts(st.Principal)...)
			}
		}
	}
	return out
}

func isExchange(s *cfn.Stack) bool { return s.Tags[dataPathTag] == dataPathExchange }

func checkVendorsStayInTheExchange(a *cfn.Assembly, report Reporter) {
	vendors := map[string]bool{}
	for role, accounts := range vendorRoles(a) {
		if !isExchange(role.Stack) {
			report(role, "AssumeRolePolicyDocument", "trusts %s with sts:ExternalId: vendor roles live only in an exchange stack", strings.Join(accounts, ", "))
			continue
		}
		for _, acct := range accounts {
			vendors[acct] = true
		}
	}
	for _, p := range a.Policies() {
		if isExchange(p.Resource.Stack) {
			continue
		}
		for _, st := range p.Statements {
			if acct := namedAccount(st, vendors); acct != "" {
				report(p.Resource, p.StatementPath(st), "names %s, a vendor's account: vendors reach only their exchange bucket", acct)
			}
		}
	}
}

// namedAccount returns the first of accounts a statement names (principal,
// resource or condition value), or "".
func namedAccount(st cfn.Statement, accounts map[string]bool) string {
	var texts []string
	if st.Principal != nil {
		texts = append(texts, st.Principal.All()...)
	}
	texts = append(texts, st.Resource...)
	for _, block := range st.Condition {
		for _, vals := range block {
			texts = append(texts, vals...)
		}
	}
	for _, t := range texts {
		for acct := range accounts {
			if t == acct || strings.Contains(t, ":"+acct+":") {
				return acct
			}
		}
	}
	return ""
}

func checkVendorRolesStayInTheirPrefix(a *cfn.Assembly, report Reporter) {
	for role := range vendorRoles(a) {
		checkVendorTrust(a, role, report)
		if names := role.ManagedPolicyNames(); len(names) > 0 {
			report(role, "ManagedPolicyArns", "attaches %s: a vendor role holds only its prefix's statements", strings.Join(names, ", "))
		}
		prefix := ""
		for _, p := range a.RolePolicies(role) {
			if p.Kind != cfn.Identity {
				continue
			}
			for _, st := range p.Statements {
				if st.Allow() {
					checkVendorStatement(p, st, &prefix, report)
				}
			}
		}
	}
}

// checkVendorTrust: every statement of a vendor role's trust admits one
// account's root, with an external id, until a date.
func checkVendorTrust(a *cfn.Assembly, role *cfn.Resource, report Reporter) {
	for _, p := range a.PoliciesOf(role) {
		if p.Kind != cfn.Trust {
			continue
		}
		for _, st := range p.Statements {
			if !st.Allow() {
				continue
			}
			path := p.StatementPath(st)
			switch {
			case !vendorTrust(st):
				report(role, path, "admits %s without sts:ExternalId", strings.Join(st.Principal.All(), ", "))
			case st.Principal == nil || len(st.Principal.All()) != 1 || len(trustedAccounts(st.Principal)) != 1:
				report(role, path, "admits %s: a vendor role trusts one account's root, and the vendor names its own principals", strings.Join(st.Principal.All(), ", "))
			}
			if len(st.Values(func(op string) bool { return op == "DateLessThan" }, "aws:CurrentTime")) == 0 {
				report(role, path, "has no aws:CurrentTime DateLessThan condition: the vendor's access never ends")
			}
		}
	}
}

// checkVendorStatement holds one allowed statement of a vendor role to
// its prefix: the first object prefix seen is the role's.
func checkVendorStatement(p *cfn.Policy, st cfn.Statement, prefix *string, report Reporter) {
	path := p.Resource.ID + "." + p.StatementPath(st)
	for _, act := range append(slices.Clone(st.Action), st.NotAction...) {
		service, _, _ := strings.Cut(act, ":")
		switch {
		case len(st.NotAction) > 0:
			report(p.Resource, path, "allows everything but %s (NotAction)", strings.Join(st.NotAction, ", "))
			return
		case strings.EqualFold(act, "s3:ListBucket"):
			checkVendorList(p, st, *prefix, path, report)
		case strings.EqualFold(service, "s3"):
			for _, r := range st.Resource {
				if problem := vendorObject(r, prefix); problem != "" {
					report(p.Resource, path, "allows %s on %s: %s", act, r, problem)
				}
			}
		case strings.EqualFold(service, "kms"):
			via := st.Values(func(op string) bool { return !cfn.Negated(op) }, "kms:ViaService")
			if len(via) == 0 || !strings.HasPrefix(via[0], "s3.") {
				report(p.Resource, path, "allows %s without kms:ViaService s3: a vendor uses the exchange key through S3 only", act)
			}
		default:
			report(p.Resource, path, "allows %s: a vendor role uses S3 on its prefix and the exchange key through S3, nothing else", act)
		}
	}
}

// vendorObject checks an object ARN against the role's prefix.
func vendorObject(r string, prefix *string) string {
	rest, ok := strings.CutPrefix(r, "arn:aws:s3:::")
	bucket, key, _ := strings.Cut(rest, "/")
	dir, _, _ := strings.Cut(key, "*")
	switch {
	case !ok || bucket == "" || strings.Contains(bucket, "*"):
		return "not the objects of one bucket"
	case !strings.HasSuffix(dir, "/") || dir == "/" || key != dir+"*":
		return "not one prefix (bucket/prefix/*)"
	case *prefix == "":
		*prefix = bucket + "/" + dir
	case *prefix != bucket+"/"+dir:
		return fmt.Sprintf("outside the role's prefix %s", *prefix)
	}
	return ""
}

// checkVendorList: listing is of one bucket, with an s3:prefix condition
// inside the role's prefix.
func checkVendorList(p *cfn.Policy, st cfn.Statement, prefix, path string, report Reporter) {
	values := st.Values(func(op string) bool { return !cfn.Negated(op) }, "s3:prefix")
	if len(values) == 0 {
		report(p.Resource, path, "allows s3:ListBucket without an s3:prefix condition: the vendor would list every vendor's objects")
		return
	}
	_, dir, _ := strings.Cut(prefix, "/")
	for _, v := range values {
		if dir != "" && !strings.HasPrefix(v, dir) || v == "*" || strings.HasPrefix(v, "*") {
			report(p.Resource, path, "lets s3:ListBucket list %q, outside the role's prefix %s", v, prefix)
		}
	}
}

func checkDataPathBuckets(a *cfn.Assembly, report Reporter) {
	policies := bucketPolicies(a)
	for _, b := range a.Resources("AWS::S3::Bucket") {
		if b.Stack.Tags[dataPathTag] == "" || tag(b, "ResourceGroup") != assetStorage {
			continue
		}
		for _, action := range []string{"s3:GetObject", "s3:PutObject"} {
			if !denies(policies[b], action, "aws:PrincipalArn", func(v []string) bool { return !slices.Contains(v, "*") }) {
				report(b, "", "no bucket policy denies %s to every principal but the named roles (aws:PrincipalArn)", action)
			}
		}
		if isExchange(b.Stack) && !expiresWithin(b, maxExchangeDays) {
			report(b, "LifecycleConfiguration", "no enabled rule expires every object within %d days: the exchange would become a second store of the production's content", maxExchangeDays)
		}
	}
}

// expiresWithin reports whether an enabled lifecycle rule with no filter
// expires every object within days.
func expiresWithin(b *cfn.Resource, days int) bool {
	for _, r := range cfn.AsList(b.Prop("LifecycleConfiguration.Rules")) {
		m := cfn.AsMap(r)
		if b.Stack.String(m["Status"]) != "Enabled" || cfn.Present(m["Prefix"]) || cfn.Present(m["TagFilters"]) {
			continue
		}
		var n int
		if _, err := fmt.Sscan(b.Stack.String(m["ExpirationInDays"]), &n); err == nil && n > 0 && n <= days {
			return true
		}
	}
	return false
}
