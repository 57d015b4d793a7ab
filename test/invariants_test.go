package test

import (
	"fmt"
	"reflect"
	"sort"
	"strings"
	"testing"
)

// The security invariants of DESIGN.md, checked on every template of the
// acme fixture estate and of a generated estate with every tier and isolation
// shape. They read the CloudFormation JSON only: what is deployed, not how
// the constructs meant it.

// findings are the violations one invariant finds in one estate, each
// naming the stack and logical id.
type findings []string

func (f *findings) add(format string, args ...any) { *f = append(*f, fmt.Sprintf(format, args...)) }

// invariant checks one estate.
type invariant func(s *Synthesized, logf func(string, ...any)) findings

// checkEach runs an invariant on each estate as a subtest.
func checkEach(t *testing.T, specs []estateSpec, check invariant) {
	t.Helper()
	eachEstate(t, specs, func(t *testing.T, s *Synthesized) {
		for _, f := range check(s, t.Logf) {
			t.Error(f)
		}
	})
}

// internetTypes give a network a path to or from the internet.
var internetTypes = []string{
	"AWS::EC2::InternetGateway",
	"AWS::EC2::EgressOnlyInternetGateway",
	"AWS::EC2::NatGateway",
	"AWS::EC2::VPCGatewayAttachment",
	"AWS::EC2::EIP",
}

const frontEndSubnet = "front-end" // the management VPC's NAT tier

func isDefaultRoute(props map[string]any) bool {
	return props["DestinationCidrBlock"] == "0.0.0.0/0" || props["DestinationIpv6CidrBlock"] == "::/0"
}

func TestInternetAccessExistsOnlyInManagementFrontEnd(t *testing.T) {
	checkEach(t, invariantEstates, checkInternetAccessExistsOnlyInManagementFrontEnd)
}

func checkInternetAccessExistsOnlyInManagementFrontEnd(s *Synthesized, logf func(string, ...any)) (f findings) {
	network := s.NetworkStack()
	for _, r := range s.Templates.All() {
		if r.Stack == network {
			continue
		}
		switch {
		case contains(internetTypes, r.Type):
			f.add("%s: internet resource outside %s (ISE 2.2, 2.3: no internet path in production networks)", r, network)
		case r.Type == "AWS::EC2::Subnet" && isTrue(r.Props["MapPublicIpOnLaunch"]):
			f.add("%s: public subnet (MapPublicIpOnLaunch true) outside %s", r, network)
		case r.Type == "AWS::EC2::Route" && isDefaultRoute(r.Props):
			f.add("%s: default route %v outside %s: a subnet with a route to the internet is public", r, r.Props["DestinationCidrBlock"], network)
		}
	}

	// In the management VPC the internet gateway and NAT gateways serve
	// the front-end subnets only; other subnets leave through NAT.
	ts := s.Templates
	frontEnd := map[string]bool{}
	for _, r := range ts.In(network, "AWS::EC2::Subnet") {
		tg, _ := tags(r)
		if tg["aws-cdk:subnet-name"] == frontEndSubnet {
			frontEnd[r.ID] = true
		} else if isTrue(r.Props["MapPublicIpOnLaunch"]) {
			f.add("%s: public subnet outside the front-end tier", r)
		}
	}
	subnetsOf := map[string][]string{} // route table -> subnets
	for _, r := range ts.In(network, "AWS::EC2::SubnetRouteTableAssociation") {
		rt, _ := ref(r.Props["RouteTableId"])
		sn, _ := ref(r.Props["SubnetId"])
		subnetsOf[rt] = append(subnetsOf[rt], sn)
	}
	typeOf := func(v any) string {
		id, ok := refOrAtt(v)
		if !ok {
			return ""
		}
		res, _ := ts.Get(network, id)
		return res.Type
	}
	eipsOfNat := map[string]bool{}
	for _, r := range ts.In(network, "AWS::EC2::NatGateway") {
		sn, _ := ref(r.Props["SubnetId"])
		if !frontEnd[sn] {
			f.add("%s: NAT gateway in subnet %q, which is not a %s subnet", r, sn, frontEndSubnet)
		}
		if id, ok := refOrAtt(r.Props["AllocationId"]); ok {
			eipsOfNat[id] = true
		}
	}
	for _, r := range ts.In(network, "AWS::EC2::EIP") {
		if !eipsOfNat[r.ID] {
			f.add("%s: elastic IP not used by a front-end NAT gateway", r)
		}
	}
	for _, r := range ts.In(network, "AWS::EC2::Route") {
		rt, _ := ref(r.Props["RouteTableId"])
		viaIgw := typeOf(r.Props["GatewayId"]) == "AWS::EC2::InternetGateway"
		if viaIgw {
			if len(subnetsOf[rt]) == 0 {
				f.add("%s: route to the internet gateway in route table %q, which no subnet uses", r, rt)
			}
			for _, sn := range subnetsOf[rt] {
				if !frontEnd[sn] {
					f.add("%s: route to the internet gateway from subnet %q, which is not a %s subnet", r, sn, frontEndSubnet)
				}
			}
		}
		if isDefaultRoute(r.Props) && !viaIgw && typeOf(r.Props["NatGatewayId"]) != "AWS::EC2::NatGateway" {
			f.add("%s: default route neither to the internet gateway from the front end nor through a NAT gateway", r)
		}
	}
	return f
}

func TestEveryVpcHasFlowLogsToAnEncryptedLogGroup(t *testing.T) {
	checkEach(t, invariantEstates, checkEveryVpcHasFlowLogsToAnEncryptedLogGroup)
}

func checkEveryVpcHasFlowLogsToAnEncryptedLogGroup(s *Synthesized, logf func(string, ...any)) (f findings) {
	ts := s.Templates
	vpcs := ts.All("AWS::EC2::VPC")
	if len(vpcs) == 0 {
		return append(f, "no AWS::EC2::VPC in the estate: the checks below would pass vacuously")
	}
	for _, vpc := range vpcs {
		var logs []Resource
		for _, fl := range ts.In(vpc.Stack, "AWS::EC2::FlowLog") {
			if id, ok := ref(fl.Props["ResourceId"]); ok && id == vpc.ID {
				logs = append(logs, fl)
			}
		}
		if len(logs) == 0 {
			f.add("%s: no AWS::EC2::FlowLog with ResourceId Ref %s (ISE 8.1: every VPC logs its IP traffic)", vpc, vpc.ID)
			continue
		}
		good := false
		var why []string
		for _, fl := range logs {
			if fl.Props["TrafficType"] != "ALL" {
				why = append(why, fmt.Sprintf("%s: TrafficType %v, want ALL", fl.ID, fl.Props["TrafficType"]))
				continue
			}
			groupID, ok := refOrAtt(fl.Props["LogGroupName"])
			if !ok {
				groupID, ok = refOrAtt(fl.Props["LogDestination"])
			}
			group, found := ts.Get(vpc.Stack, groupID)
			if !ok || !found || group.Type != "AWS::Logs::LogGroup" {
				why = append(why, fmt.Sprintf("%s: destination is not an AWS::Logs::LogGroup of the stack", fl.ID))
				continue
			}
			if !present(group.Props["KmsKeyId"]) {
				why = append(why, fmt.Sprintf("%s: log group %s has no KmsKeyId", fl.ID, group.ID))
				continue
			}
			if days, ok := number(group.Props["RetentionInDays"]); !ok || days < 365 {
				why = append(why, fmt.Sprintf("%s: log group %s keeps logs %v days, want at least 365", fl.ID, group.ID, group.Props["RetentionInDays"]))
				continue
			}
			good = true
		}
		if !good {
			f.add("%s: no flow log of all traffic to an encrypted log group kept a year: %s", vpc, strings.Join(why, "; "))
		}
	}
	return f
}

func TestEveryProductionVpcHasAWalledGardenDnsFirewallAndQueryLogs(t *testing.T) {
	checkEach(t, invariantEstates, checkEveryProductionVpcHasAWalledGardenDnsFirewallAndQueryLogs)
}

// checkEveryProductionVpcHasAWalledGardenDnsFirewallAndQueryLogs: a VPC
// with no internet path still resolves any name through the Route 53
// Resolver, which a render node could tunnel data through. Every VPC
// outside the network stack (productions and pools) has a DNS Firewall rule
// group whose last rule blocks every name (*), and logs its queries to an
// encrypted log group kept a year (ISE 2.1, 8.1).
func checkEveryProductionVpcHasAWalledGardenDnsFirewallAndQueryLogs(s *Synthesized, logf func(string, ...any)) (f findings) {
	ts := s.Templates
	network := s.NetworkStack()
	checked := 0
	for _, vpc := range ts.All("AWS::EC2::VPC") {
		if vpc.Stack == network {
			continue
		}
		checked++
		var groups []Resource
		for _, a := range ts.In(vpc.Stack, "AWS::Route53Resolver::FirewallRuleGroupAssociation") {
			if id, ok := ref(a.Props["VpcId"]); !ok || id != vpc.ID {
				continue
			}
			if gid, ok := refOrAtt(a.Props["FirewallRuleGroupId"]); ok {
				if g, found := ts.Get(vpc.Stack, gid); found && g.Type == "AWS::Route53Resolver::FirewallRuleGroup" {
					groups = append(groups, g)
				}
			}
		}
		if len(groups) == 0 {
			f.add("%s: no DNS Firewall rule group associated (a VPC without an internet path still resolves every name: DNS is an exit)", vpc)
		}
		for _, g := range groups {
			if why := blocksEverythingLast(ts, g); why != "" {
				f.add("%s: DNS Firewall rule group %s does not block every other name last: %s", vpc, g.ID, why)
			}
		}
		logged := false
		var why []string
		for _, a := range ts.In(vpc.Stack, "AWS::Route53Resolver::ResolverQueryLoggingConfigAssociation") {
			if id, ok := ref(a.Props["ResourceId"]); !ok || id != vpc.ID {
				continue
			}
			cid, _ := refOrAtt(a.Props["ResolverQueryLogConfigId"])
			config, found := ts.Get(vpc.Stack, cid)
			if !found || config.Type != "AWS::Route53Resolver::ResolverQueryLoggingConfig" {
				why = append(why, fmt.Sprintf("%s: names no query logging config of the stack", a.ID))
				continue
			}
			group, found := logGroupNamed(ts, vpc.Stack, arnText(config.Props["DestinationArn"]))
			switch {
			case !found:
				why = append(why, fmt.Sprintf("%s: destination %v is not a log group of the stack", config.ID, arnText(config.Props["DestinationArn"])))
			case !present(group.Props["KmsKeyId"]):
				why = append(why, fmt.Sprintf("%s: log group %s has no KmsKeyId", config.ID, group.ID))
			default:
				if days, ok := number(group.Props["RetentionInDays"]); !ok || days < 365 {
					why = append(why, fmt.Sprintf("%s: log group %s keeps logs %v days, want at least 365", config.ID, group.ID, group.Props["RetentionInDays"]))
				} else {
					logged = true
				}
			}
		}
		if !logged {
			f.add("%s: DNS queries not logged to an encrypted log group kept a year (ISE 8.1) %s", vpc, strings.Join(why, "; "))
		}
	}
	if checked == 0 {
		f.add("no production or pool VPC in the estate: the checks above would pass vacuously")
	}
	return f
}

// blocksEverythingLast says why a DNS Firewall rule group's last rule (the
// highest priority number) does not block every name, or "".
func blocksEverythingLast(ts Templates, g Resource) string {
	var last map[string]any
	lastPriority := -1.0
	for _, r := range asList(g.Props["FirewallRules"]) {
		rule := asMap(r)
		if p, ok := number(rule["Priority"]); ok && p > lastPriority {
			last, lastPriority = rule, p
		}
	}
	if last == nil {
		return "it has no rules"
	}
	listID, _ := refOrAtt(last["FirewallDomainListId"])
	list, found := ts.Get(g.Stack, listID)
	switch {
	case last["Action"] != "BLOCK":
		return fmt.Sprintf("the last rule's action is %v", last["Action"])
	case last["BlockResponse"] != "NXDOMAIN" && last["BlockResponse"] != "NODATA":
		return fmt.Sprintf("the last rule answers %v, want NXDOMAIN or NODATA", last["BlockResponse"])
	case !found || list.Type != "AWS::Route53Resolver::FirewallDomainList":
		return "the last rule's domain list is not a domain list of the stack"
	case !reflect.DeepEqual(strs(list.Props["Domains"]), []string{"*"}):
		return fmt.Sprintf("the last rule blocks %v, not every name (*)", strs(list.Props["Domains"]))
	}
	return ""
}

// arnText is an ARN written as a string or an Fn::Join of strings and
// pseudo-parameter references, with the references as ${Name}.
func arnText(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	j, ok := asMap(v)["Fn::Join"].([]any)
	if !ok || len(j) != 2 {
		return fmt.Sprint(v)
	}
	var parts []string
	for _, p := range asList(j[1]) {
		if id, ok := ref(p); ok {
			parts = append(parts, "${"+id+"}")
		} else {
			parts = append(parts, fmt.Sprint(p))
		}
	}
	sep, _ := j[0].(string)
	return strings.Join(parts, sep)
}

// logGroupNamed is the AWS::Logs::LogGroup of stack whose ARN is arn.
func logGroupNamed(ts Templates, stack, arn string) (Resource, bool) {
	_, name, ok := strings.Cut(arn, ":log-group:")
	if !ok {
		return Resource{}, false
	}
	name = strings.TrimSuffix(name, ":*")
	for _, g := range ts.In(stack, "AWS::Logs::LogGroup") {
		if g.Props["LogGroupName"] == name {
			return g, true
		}
	}
	return Resource{}, false
}

// present reports whether a property is set to something other than an
// empty string.
func present(v any) bool {
	if v == nil {
		return false
	}
	if s, ok := v.(string); ok {
		return s != ""
	}
	return true
}

func TestKmsKeysRotateAndAreRetained(t *testing.T) {
	checkEach(t, invariantEstates, checkKmsKeysRotateAndAreRetained)
}

func checkKmsKeysRotateAndAreRetained(s *Synthesized, logf func(string, ...any)) (f findings) {
	keys := s.Templates.All("AWS::KMS::Key")
	if len(keys) == 0 {
		return append(f, "no AWS::KMS::Key in the estate")
	}
	for _, k := range keys {
		if !isTrue(k.Props["EnableKeyRotation"]) {
			f.add("%s: EnableKeyRotation is %v, want true (ISE 9.5)", k, k.Props["EnableKeyRotation"])
		}
		if d, ok := number(k.Props["PendingWindowInDays"]); !ok || d != 30 {
			f.add("%s: PendingWindowInDays is %v, want 30", k, k.Props["PendingWindowInDays"])
		}
		for _, p := range []string{"DeletionPolicy", "UpdateReplacePolicy"} {
			if k.Body[p] != "Retain" {
				f.add("%s: %s is %v, want Retain: data at rest is never deleted by a stack", k, p, k.Body[p])
			}
		}
	}
	return f
}

// adminActions change who controls a key or destroy it; dataActions use it.
var (
	adminActions = []string{
		"kms:PutKeyPolicy", "kms:ScheduleKeyDeletion", "kms:CancelKeyDeletion", "kms:DisableKey",
		"kms:EnableKey", "kms:DisableKeyRotation", "kms:EnableKeyRotation", "kms:CreateAlias",
		"kms:DeleteAlias", "kms:UpdateAlias", "kms:UpdateKeyDescription", "kms:RevokeGrant",
		"kms:TagResource", "kms:UntagResource", "kms:ImportKeyMaterial", "kms:DeleteImportedKeyMaterial",
		"kms:ReplicateKey", "kms:UpdatePrimaryRegion",
	}
	dataActions = []string{
		"kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:GenerateDataKeyWithoutPlaintext",
		"kms:GenerateDataKeyPair", "kms:ReEncryptFrom", "kms:ReEncryptTo",
	}
)

// statement is one IAM policy statement.
type statement struct {
	sid    string
	effect string
	body   map[string]any
}

func statements(doc any) []statement {
	m, _ := doc.(map[string]any)
	var out []statement
	for i, st := range asList(m["Statement"]) {
		body, _ := st.(map[string]any)
		sid, _ := body["Sid"].(string)
		if sid == "" {
			sid = fmt.Sprintf("statement %d", i)
		}
		effect, _ := body["Effect"].(string)
		out = append(out, statement{sid: sid, effect: effect, body: body})
	}
	return out
}

func (s statement) actions() []string { return strs(s.body["Action"]) }

// covers reports whether any of the statement's action patterns matches one
// of the actions.
func (s statement) covers(actions ...string) bool {
	for _, p := range s.actions() {
		for _, a := range actions {
			if globMatch(strings.ToLower(p), strings.ToLower(a)) {
				return true
			}
		}
	}
	return false
}

// conditionValues returns the values of a condition key under any operator,
// with the operator names.
func (s statement) conditionValues(key string) (ops []string, values []any) {
	cond, _ := s.body["Condition"].(map[string]any)
	for op, block := range cond {
		kv, _ := block.(map[string]any)
		for k, v := range kv {
			if strings.EqualFold(k, key) {
				ops = append(ops, op)
				values = append(values, v)
			}
		}
	}
	return ops, values
}

// principalPatterns are the principal ARNs a statement names: in
// aws:PrincipalArn conditions, and as explicit principals other than an
// account root or everyone.
func (s statement) principalPatterns() []string {
	var out []string
	_, values := s.conditionValues("aws:PrincipalArn")
	for _, v := range values {
		out = append(out, strs(v)...)
	}
	if p, ok := s.body["Principal"].(map[string]any); ok {
		for _, a := range strs(p["AWS"]) {
			if a != "*" && !strings.HasSuffix(a, ":root") {
				out = append(out, a)
			}
		}
	}
	return out
}

// globMatch matches IAM wildcards: * any run of characters, ? one.
func globMatch(pattern, s string) bool {
	p, str := 0, 0
	star, mark := -1, 0
	for str < len(s) {
		switch {
		case p < len(pattern) && (pattern[p] == '?' || pattern[p] == s[str]):
			p++
			str++
		case p < len(pattern) && pattern[p] == '*':
			star, mark = p, str
			p++
		case star >= 0:
			p = star + 1
			mark++
			str = mark
		default:
			return false
		}
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}

func TestKmsKeyPoliciesNeverGrantEverythingNorMixAdministrationWithUse(t *testing.T) {
	checkEach(t, invariantEstates, checkKmsKeyPoliciesNeverGrantEverythingNorMixAdministrationWithUse)
}

func checkKmsKeyPoliciesNeverGrantEverythingNorMixAdministrationWithUse(s *Synthesized, logf func(string, ...any)) (f findings) {
	for _, k := range s.Templates.All("AWS::KMS::Key") {
		sts := statements(k.Props["KeyPolicy"])
		if len(sts) == 0 {
			f.add("%s: no key policy statements", k)
		}
		var admin, data []statement
		for _, st := range sts {
			// Only grants matter here: a Deny of kms:* takes away.
			if st.effect != "Allow" {
				continue
			}
			for _, a := range st.actions() {
				if a == "*" || strings.EqualFold(a, "kms:*") {
					f.add("%s: key policy statement %q allows %q", k, st.sid, a)
				}
			}
			if _, ok := st.body["NotAction"]; ok {
				f.add("%s: key policy statement %q allows everything but a list (NotAction)", k, st.sid)
			}
			if st.covers(adminActions...) {
				admin = append(admin, st)
			}
			if st.covers(dataActions...) {
				data = append(data, st)
			}
		}
		for _, a := range admin {
			for _, d := range data {
				for _, pa := range a.principalPatterns() {
					for _, pd := range d.principalPatterns() {
						if globMatch(pa, pd) || globMatch(pd, pa) {
							f.add("%s: principal %q administers the key (%q) and %q uses it for data (%q): separate key administrators from key users (ISE 9.3)",
								k, pa, a.sid, pd, d.sid)
						}
					}
				}
			}
		}
	}
	return f
}

// rolePolicies returns the Allow and Deny statements each IAM role of the
// estate is granted, by stack/logical id: its inline policies, the
// AWS::IAM::Policy and customer-managed policies of its stack that name it.
// Permissions boundaries only limit, so they are left out.
func rolePolicies(ts Templates) map[string][]statement {
	out := map[string][]statement{}
	for _, r := range ts.All("AWS::IAM::Role", "AWS::IAM::Policy", "AWS::IAM::ManagedPolicy") {
		switch r.Type {
		case "AWS::IAM::Role":
			key := r.Stack + "/" + r.ID
			for _, p := range asList(r.Props["Policies"]) {
				pm, _ := p.(map[string]any)
				out[key] = append(out[key], named(statements(pm["PolicyDocument"]), r.ID)...)
			}
			for _, arn := range asList(r.Props["ManagedPolicyArns"]) {
				if id, ok := ref(arn); ok {
					if mp, found := ts.Get(r.Stack, id); found && mp.Type == "AWS::IAM::ManagedPolicy" {
						out[key] = append(out[key], named(statements(mp.Props["PolicyDocument"]), id)...)
					}
				}
			}
		default:
			for _, role := range asList(r.Props["Roles"]) {
				if id, ok := ref(role); ok {
					key := r.Stack + "/" + id
					out[key] = append(out[key], named(statements(r.Props["PolicyDocument"]), r.ID)...)
				}
			}
		}
	}
	return out
}

// named prefixes statement ids with the policy they come from.
func named(sts []statement, policy string) []statement {
	for i := range sts {
		sts[i].sid = policy + " " + sts[i].sid
	}
	return sts
}

func TestIamRolesNeverBothAdministerAndUseKeys(t *testing.T) {
	checkEach(t, invariantEstates, checkIamRolesNeverBothAdministerAndUseKeys)
}

func checkIamRolesNeverBothAdministerAndUseKeys(s *Synthesized, logf func(string, ...any)) (f findings) {
	// The key policies delegate administration to IAM in the key's
	// account, so the separation of ISE 9.3 is kept by the roles.
	roles := rolePolicies(s.Templates)
	keys := []string{}
	for key := range roles {
		keys = append(keys, key)
	}
	sort.Strings(keys)
	admins, users := 0, 0
	for _, role := range keys {
		var admin, data []string
		for _, st := range roles[role] {
			if st.effect != "Allow" {
				continue
			}
			for _, a := range st.actions() {
				if a == "*" || strings.EqualFold(a, "kms:*") {
					f.add("%s: IAM role is allowed %q (%s)", role, a, st.sid)
				}
			}
			if _, ok := st.body["NotAction"]; ok {
				f.add("%s: IAM role is allowed everything but a list (NotAction, %s)", role, st.sid)
			}
			if st.covers(adminActions...) {
				admin = append(admin, st.sid)
			}
			if st.covers(dataActions...) {
				data = append(data, st.sid)
			}
		}
		if len(admin) > 0 {
			admins++
		}
		if len(data) > 0 {
			users++
		}
		if len(admin) > 0 && len(data) > 0 {
			f.add("%s: IAM role both administers keys (%s) and uses them for data (%s)", role, strings.Join(admin, ", "), strings.Join(data, ", "))
		}
	}
	logf("%d roles administer keys, %d use them", admins, users)
	return f
}

// kmsKey resolves a key reference to the customer-managed key it names: a
// Ref or GetAtt of an AWS::KMS::Key of the stack, or of another stack of the
// estate that publishes it (a pooled key, through SSM or an export).
func kmsKey(ts Templates, stack string, v any) (Resource, bool) {
	stack, v, err := ts.follow(stack, v)
	if err != nil {
		return Resource{}, false
	}
	id, ok := refOrAtt(v)
	if !ok {
		return Resource{}, false
	}
	r, found := ts.Get(stack, id)
	return r, found && r.Type == "AWS::KMS::Key"
}

func TestBucketsBlockPublicAccessDenyPlainHttpAndAreRetained(t *testing.T) {
	checkEach(t, invariantEstates, checkBucketsBlockPublicAccessDenyPlainHttpAndAreRetained)
}

func checkBucketsBlockPublicAccessDenyPlainHttpAndAreRetained(s *Synthesized, logf func(string, ...any)) (f findings) {
	buckets := s.Templates.All("AWS::S3::Bucket")
	if len(buckets) == 0 {
		return append(f, "no AWS::S3::Bucket in the estate")
	}
	policies := bucketPolicies(s.Templates)
	for _, b := range buckets {
		pab, _ := b.Props["PublicAccessBlockConfiguration"].(map[string]any)
		for _, field := range []string{"BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets"} {
			if !isTrue(pab[field]) {
				f.add("%s: PublicAccessBlockConfiguration.%s is %v, want true", b, field, pab[field])
			}
		}
		if b.Body["DeletionPolicy"] != "Retain" {
			f.add("%s: DeletionPolicy is %v, want Retain", b, b.Body["DeletionPolicy"])
		}
		sts, ok := policies[b.Stack+"/"+b.ID]
		if !ok {
			f.add("%s: no AWS::S3::BucketPolicy", b)
			continue
		}
		denies := false
		for _, st := range sts {
			if st.effect != "Deny" || !containsAll(st.actions(), "s3:*") {
				continue
			}
			_, values := st.conditionValues("aws:SecureTransport")
			for _, v := range values {
				if v == false || v == "false" {
					denies = true
				}
			}
		}
		if !denies {
			f.add("%s: its bucket policy has no Deny of s3:* when aws:SecureTransport is false", b)
		}
	}
	return f
}

func containsAll(list []string, want ...string) bool {
	for _, w := range want {
		if !contains(list, w) && !contains(list, "*") {
			return false
		}
	}
	return true
}

// bucketPolicies returns the policy statements of each bucket, by
// stack/logical id.
func bucketPolicies(ts Templates) map[string][]statement {
	byName := map[string]string{}
	for _, b := range ts.All("AWS::S3::Bucket") {
		if name, ok := b.Props["BucketName"].(string); ok {
			byName[name] = b.Stack + "/" + b.ID
		}
	}
	out := map[string][]statement{}
	for _, p := range ts.All("AWS::S3::BucketPolicy") {
		key := ""
		if id, ok := ref(p.Props["Bucket"]); ok {
			key = p.Stack + "/" + id
		} else if name, ok := p.Props["Bucket"].(string); ok {
			key = byName[name]
		}
		if key != "" {
			out[key] = append(out[key], statements(p.Props["PolicyDocument"])...)
		}
	}
	return out
}

// accessLogTargets are the buckets that receive another bucket's server
// access logs, by stack/logical id.
func accessLogTargets(ts Templates) map[string]string {
	byName := map[string]string{}
	for _, b := range ts.All("AWS::S3::Bucket") {
		if name, ok := b.Props["BucketName"].(string); ok {
			byName[name] = b.Stack + "/" + b.ID
		}
	}
	out := map[string]string{}
	for _, b := range ts.All("AWS::S3::Bucket") {
		lc, _ := b.Props["LoggingConfiguration"].(map[string]any)
		if id, ok := ref(lc["DestinationBucketName"]); ok {
			out[b.Stack+"/"+id] = b.String()
		} else if name, ok := lc["DestinationBucketName"].(string); ok && byName[name] != "" {
			out[byName[name]] = b.String()
		}
	}
	return out
}

// sseDefaults returns the default encryption rules of a bucket.
func sseDefaults(b Resource) []map[string]any {
	enc, _ := b.Props["BucketEncryption"].(map[string]any)
	var out []map[string]any
	for _, rule := range asList(enc["ServerSideEncryptionConfiguration"]) {
		rm, _ := rule.(map[string]any)
		if d, ok := rm["ServerSideEncryptionByDefault"].(map[string]any); ok {
			out = append(out, d)
		}
	}
	return out
}

func TestBucketsEncryptWithCustomerManagedKeysExceptAccessLogTargets(t *testing.T) {
	checkEach(t, invariantEstates, checkBucketsEncryptWithCustomerManagedKeysExceptAccessLogTargets)
}

func checkBucketsEncryptWithCustomerManagedKeysExceptAccessLogTargets(s *Synthesized, logf func(string, ...any)) (f findings) {
	targets := accessLogTargets(s.Templates)
	for _, b := range s.Templates.All("AWS::S3::Bucket") {
		rules := sseDefaults(b)
		if len(rules) == 0 {
			f.add("%s: no BucketEncryption default", b)
			continue
		}
		for _, d := range rules {
			if source, ok := targets[b.Stack+"/"+b.ID]; ok {
				// S3 server access logging delivers only to SSE-S3 buckets.
				if d["SSEAlgorithm"] != "AES256" {
					f.add("%s: receives the access logs of %s, so must use SSE-S3 (AES256); has %v", b, source, d["SSEAlgorithm"])
				}
				continue
			}
			if d["SSEAlgorithm"] != "aws:kms" && d["SSEAlgorithm"] != "aws:kms:dsse" {
				f.add("%s: SSEAlgorithm is %v, want aws:kms with a customer-managed key", b, d["SSEAlgorithm"])
				continue
			}
			if !present(d["KMSMasterKeyID"]) {
				f.add("%s: aws:kms without a KMSMasterKeyID uses the AWS-managed key", b)
			} else if _, ok := kmsKey(s.Templates, b.Stack, d["KMSMasterKeyID"]); !ok {
				f.add("%s: KMSMasterKeyID %v is not a customer-managed key of the estate", b, d["KMSMasterKeyID"])
			}
		}
	}
	return f
}

func TestAssetBucketsDenyWritesWithoutTheAssetKeyAndAccessOutsideTheVpc(t *testing.T) {
	checkEach(t, invariantEstates, checkAssetBucketsDenyWritesWithoutTheAssetKeyAndAccessOutsideTheVpc)
}

func checkAssetBucketsDenyWritesWithoutTheAssetKeyAndAccessOutsideTheVpc(s *Synthesized, logf func(string, ...any)) (f findings) {
	policies := bucketPolicies(s.Templates)
	assets := 0
	for _, b := range s.Templates.All("AWS::S3::Bucket") {
		name, _ := b.Props["BucketName"].(string)
		if !strings.Contains(name, "-assets-") {
			continue
		}
		assets++
		var key any
		if rules := sseDefaults(b); len(rules) > 0 {
			key = rules[0]["KMSMasterKeyID"]
		}
		keyDeny, vpceDeny := false, false
		for _, st := range policies[b.Stack+"/"+b.ID] {
			if st.effect != "Deny" {
				continue
			}
			if ops, values := st.conditionValues("s3:x-amz-server-side-encryption-aws-kms-key-id"); len(values) > 0 && st.covers("s3:PutObject") {
				for i, v := range values {
					if strings.HasPrefix(ops[i], "StringNot") && reflect.DeepEqual(v, key) {
						keyDeny = true
					}
				}
			}
			if ops, values := st.conditionValues("aws:SourceVpce"); len(values) > 0 {
				negated := false
				for _, op := range ops {
					negated = negated || strings.HasPrefix(op, "StringNot")
				}
				if negated && st.covers("s3:GetObject") && st.covers("s3:PutObject") && st.covers("s3:DeleteObject") {
					vpceDeny = true
				}
			}
		}
		if !keyDeny {
			f.add("%s: no Deny of s3:PutObject unless s3:x-amz-server-side-encryption-aws-kms-key-id is the bucket's key %v", b, key)
		}
		if !vpceDeny {
			f.add("%s: no Deny of object reads, writes and deletes from outside the production's VPC endpoint (aws:SourceVpce)", b)
		}
	}
	if want := len(s.Manifests.Productions); assets != want {
		f.add("found %d asset buckets (name contains -assets-), want one per production: %d", assets, want)
	}
	return f
}

// ingressRule is one ingress permission, inline or standalone.
type ingressRule struct {
	where string
	props map[string]any
}

func ingressRules(ts Templates) []ingressRule {
	var out []ingressRule
	for _, r := range ts.All("AWS::EC2::SecurityGroup", "AWS::EC2::SecurityGroupIngress") {
		if r.Type == "AWS::EC2::SecurityGroupIngress" {
			out = append(out, ingressRule{r.String(), r.Props})
			continue
		}
		for i, rule := range asList(r.Props["SecurityGroupIngress"]) {
			m, _ := rule.(map[string]any)
			out = append(out, ingressRule{fmt.Sprintf("%s SecurityGroupIngress[%d]", r, i), m})
		}
	}
	return out
}

// coversPort reports whether an ingress rule admits TCP or UDP traffic to
// port. ICMP rules carry types and codes in the port fields, not ports.
func coversPort(rule map[string]any, port float64) bool {
	proto := fmt.Sprint(rule["IpProtocol"])
	switch strings.ToLower(proto) {
	case "-1", "all":
		return true
	case "tcp", "udp", "6", "17":
	default:
		return false
	}
	from, okFrom := number(rule["FromPort"])
	to, okTo := number(rule["ToPort"])
	if !okFrom || !okTo || from == -1 {
		return true
	}
	return from <= port && port <= to
}

func TestNoSecurityGroupAdmitsTheInternetOrSshOrRdp(t *testing.T) {
	checkEach(t, invariantEstates, checkNoSecurityGroupAdmitsTheInternetOrSshOrRdp)
}

func checkNoSecurityGroupAdmitsTheInternetOrSshOrRdp(s *Synthesized, logf func(string, ...any)) (f findings) {
	rules := ingressRules(s.Templates)
	if len(rules) == 0 {
		return append(f, "no ingress rules in the estate: the check would pass vacuously")
	}
	for _, r := range rules {
		if r.props["CidrIp"] == "0.0.0.0/0" || r.props["CidrIpv6"] == "::/0" {
			f.add("%s: ingress from anywhere (%v%v)", r.where, orEmpty(r.props["CidrIp"]), orEmpty(r.props["CidrIpv6"]))
		}
		for _, port := range []float64{22, 3389} {
			if coversPort(r.props, port) {
				f.add("%s: admits port %v (%v %v-%v): access is through Session Manager only (ISE 4.1)",
					r.where, port, r.props["IpProtocol"], orEmpty(r.props["FromPort"]), orEmpty(r.props["ToPort"]))
			}
		}
	}
	return f
}

func orEmpty(v any) any {
	if v == nil {
		return ""
	}
	return v
}

func TestLaunchTemplatesRequireImdsv2NoPublicIpAndEncryptedVolumes(t *testing.T) {
	checkEach(t, invariantEstates, checkLaunchTemplatesRequireImdsv2NoPublicIpAndEncryptedVolumes)
}

func checkLaunchTemplatesRequireImdsv2NoPublicIpAndEncryptedVolumes(s *Synthesized, logf func(string, ...any)) (f findings) {
	templates := s.Templates.All("AWS::EC2::LaunchTemplate")
	logf("%d launch templates", len(templates))
	for _, lt := range templates {
		data, _ := lt.Props["LaunchTemplateData"].(map[string]any)
		md, _ := data["MetadataOptions"].(map[string]any)
		if md["HttpTokens"] != "required" {
			f.add("%s: MetadataOptions.HttpTokens is %v, want required (IMDSv2)", lt, md["HttpTokens"])
		}
		for i, ni := range asList(data["NetworkInterfaces"]) {
			m, _ := ni.(map[string]any)
			if isTrue(m["AssociatePublicIpAddress"]) {
				f.add("%s: NetworkInterfaces[%d] associates a public IP address", lt, i)
			}
		}
		for i, bdm := range asList(data["BlockDeviceMappings"]) {
			m, _ := bdm.(map[string]any)
			ebs, ok := m["Ebs"].(map[string]any)
			if !ok {
				continue // instance store or NoDevice: no EBS volume
			}
			if !isTrue(ebs["Encrypted"]) {
				f.add("%s: BlockDeviceMappings[%d] (%v) is not encrypted", lt, i, m["DeviceName"])
			}
			if !present(ebs["KmsKeyId"]) {
				f.add("%s: BlockDeviceMappings[%d] (%v) has no KmsKeyId: it would use the AWS-managed key", lt, i, m["DeviceName"])
			} else if _, ok := kmsKey(s.Templates, lt.Stack, ebs["KmsKeyId"]); !ok {
				f.add("%s: BlockDeviceMappings[%d] (%v) KmsKeyId %v is not a customer-managed key of the production", lt, i, m["DeviceName"], ebs["KmsKeyId"])
			}
		}
	}
	return f
}

func TestEveryProductionHasLaunchTemplates(t *testing.T) {
	if len(synth(t, acmeEstate).Templates.All("AWS::EC2::LaunchTemplate")) == 0 {
		t.Skip("no launch templates yet")
	}
	checkEach(t, invariantEstates, checkEveryProductionHasLaunchTemplates)
}

func checkEveryProductionHasLaunchTemplates(s *Synthesized, logf func(string, ...any)) (f findings) {
	for _, stack := range s.Templates.Stacks() {
		if s.IsProduction(stack) && len(s.Templates.In(stack, "AWS::EC2::LaunchTemplate")) == 0 {
			f.add("%s: production stack without a render launch template", stack)
		}
	}
	return f
}

func TestCloudTrailIsMultiRegionValidatedAndEncrypted(t *testing.T) {
	checkEach(t, invariantEstates, checkCloudTrailIsMultiRegionValidatedAndEncrypted)
}

func checkCloudTrailIsMultiRegionValidatedAndEncrypted(s *Synthesized, logf func(string, ...any)) (f findings) {
	trails := s.Templates.All("AWS::CloudTrail::Trail")
	if len(trails) == 0 {
		return append(f, "no AWS::CloudTrail::Trail in the estate (ISE 8.1, 9.4)")
	}
	for _, tr := range trails {
		for _, p := range []string{"IsMultiRegionTrail", "EnableLogFileValidation", "IncludeGlobalServiceEvents"} {
			if !isTrue(tr.Props[p]) {
				f.add("%s: %s is %v, want true", tr, p, tr.Props[p])
			}
		}
		if !present(tr.Props["KMSKeyId"]) {
			f.add("%s: no KMSKeyId: log files must be encrypted with the logging key", tr)
		}
	}
	return f
}

// Tagging (ISE 1.2).
var (
	resourceGroups = []string{"render-instance", "application-instance", "asset-storage", "logging", "network", "security"}
	// alwaysTaggable are types that support tags whether or not any
	// template tags them yet. The Transit Gateway's associations,
	// propagations and routes have no Tags property in CloudFormation.
	alwaysTaggable = []string{
		"AWS::EC2::VPC", "AWS::EC2::Subnet", "AWS::EC2::SecurityGroup", "AWS::S3::Bucket",
		"AWS::KMS::Key", "AWS::IAM::Role", "AWS::Logs::LogGroup",
		"AWS::EC2::TransitGateway", "AWS::EC2::TransitGatewayAttachment", "AWS::EC2::TransitGatewayRouteTable",
		"AWS::EC2::TransitGatewayVpcAttachment", "AWS::EC2::TransitGatewayConnect",
		"AWS::EC2::TransitGatewayPeeringAttachment", "AWS::EC2::TransitGatewayMulticastDomain",
	}
)

func TestTaggableResourcesCarryTheStudioTags(t *testing.T) {
	checkEach(t, invariantEstates, checkTaggableResourcesCarryTheStudioTags)
}

func checkTaggableResourcesCarryTheStudioTags(s *Synthesized, logf func(string, ...any)) (f findings) {
	taggable := map[string]bool{}
	for _, typ := range alwaysTaggable {
		taggable[typ] = true
	}
	for _, r := range s.Templates.All() {
		if _, ok := r.Props["Tags"]; ok {
			taggable[r.Type] = true
		}
	}
	missing := map[string][]string{} // type -> "stack/id: what"
	check := func(what, typ, stack string, tg map[string]string) {
		want := []string{"Studio", "Tier", "CostCentre", "Owner", "ResourceGroup"}
		production := strings.TrimPrefix(stack, s.studio()+"-")
		if s.IsProduction(stack) {
			want = []string{"Studio", "Production", "Tier", "CostCentre", "Owner", "ResourceGroup"}
		}
		var probs []string
		for _, k := range want {
			if _, ok := tg[k]; !ok {
				probs = append(probs, "no "+k)
			}
		}
		if v, ok := tg["ResourceGroup"]; ok && !contains(resourceGroups, v) {
			probs = append(probs, fmt.Sprintf("ResourceGroup %q is not one of %s", v, strings.Join(resourceGroups, ", ")))
		}
		if v, ok := tg["Studio"]; ok && v != s.studio() {
			probs = append(probs, fmt.Sprintf("Studio %q, want %q", v, s.studio()))
		}
		if v, ok := tg["Production"]; ok && s.IsProduction(stack) && v != production {
			probs = append(probs, fmt.Sprintf("Production %q, want %q", v, production))
		}
		if len(probs) > 0 {
			missing[typ] = append(missing[typ], what+": "+strings.Join(probs, ", "))
		}
	}
	for _, r := range s.Templates.All() {
		if taggable[r.Type] {
			tg, _ := tags(r)
			check(r.Stack+"/"+r.ID, r.Type, r.Stack, tg)
		}
		// What a launch template starts (render nodes and their
		// volumes) is tagged through its tag specifications.
		if r.Type == "AWS::EC2::LaunchTemplate" {
			data, _ := r.Props["LaunchTemplateData"].(map[string]any)
			specs := map[string]map[string]string{}
			for _, spec := range asList(data["TagSpecifications"]) {
				m, _ := spec.(map[string]any)
				rt, _ := m["ResourceType"].(string)
				tg, _ := tags(Resource{Props: m})
				specs[rt] = tg
			}
			for _, rt := range []string{"instance", "volume"} {
				check(fmt.Sprintf("%s/%s TagSpecifications[%s]", r.Stack, r.ID, rt), r.Type+" ("+rt+"s it launches)", r.Stack, specs[rt])
			}
		}
	}
	types := make([]string, 0, len(missing))
	for typ := range missing {
		types = append(types, typ)
	}
	sort.Strings(types)
	for _, typ := range types {
		list := missing[typ]
		shown := list
		if len(shown) > 8 {
			shown = append(shown[:8:8], fmt.Sprintf("... and %d more", len(list)-8))
		}
		f.add("%s: %d resource(s) lack the ISE 1.2 tags:\n\t%s", typ, len(list), strings.Join(shown, "\n\t"))
	}
	if len(types) > 0 {
		logf("types missing tags: %s", strings.Join(types, ", "))
	}
	return f
}

// CloudFormation quotas (per template).
const (
	maxResources     = 500
	maxOutputs       = 200
	maxParameters    = 200
	maxTemplateBytes = 1 << 20 // uploaded through the bootstrap bucket
	// A production stack must leave room to grow: render profiles and
	// endpoints add resources per production.
	productionHeadroom = 400
)

func TestTemplatesStayWithinCloudFormationLimits(t *testing.T) {
	checkEach(t, invariantEstates, checkTemplatesStayWithinCloudFormationLimits)
}

func checkTemplatesStayWithinCloudFormationLimits(s *Synthesized, logf func(string, ...any)) (f findings) {
	largest, largestStack := 0, ""
	for _, stack := range s.Templates.Stacks() {
		tpl := s.Templates[stack]
		n := len(asMap(tpl["Resources"]))
		if n >= maxResources {
			f.add("%s: %d resources, CloudFormation allows fewer than %d", stack, n, maxResources)
		}
		if o := len(asMap(tpl["Outputs"])); o >= maxOutputs {
			f.add("%s: %d outputs, CloudFormation allows fewer than %d", stack, o, maxOutputs)
		}
		if p := len(asMap(tpl["Parameters"])); p >= maxParameters {
			f.add("%s: %d parameters, CloudFormation allows fewer than %d", stack, p, maxParameters)
		}
		if size := len(s.Raw[stack]); size >= maxTemplateBytes {
			f.add("%s: template is %d bytes, CloudFormation allows less than %d", stack, size, maxTemplateBytes)
		}
		if s.IsProduction(stack) && n > largest {
			largest, largestStack = n, stack
		}
	}
	logf("largest production stack: %s with %d resources", largestStack, largest)
	if s.Name != acmeEstate.name && largest >= productionHeadroom {
		f.add("%s: %d resources; a production stack should stay below %d to leave headroom under CloudFormation's %d",
			largestStack, largest, productionHeadroom, maxResources)
	}
	return f
}

func asMap(v any) map[string]any {
	m, _ := v.(map[string]any)
	return m
}
