package test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/renderenv/renderenv/internal/cfn"
	"github.com/renderenv/renderenv/internal/rules"
)

// Every check must be able to fail on the estate as synthesized, not only
// on the rules' own fixtures. Each case below breaks one invariant in a
// copy of the acme estate's templates and expects the rule that encodes it
// to name the broken resource; the unbroken estate must not have that
// finding, so the finding is the fault's and nothing else's. The checks
// that stay in Go (completeness against the manifests, CloudFormation's
// quotas) are broken the same way below.

// find returns the first resource of stack with type typ that satisfies ok.
func find(t *testing.T, a *cfn.Assembly, stack, typ string, ok func(*cfn.Resource) bool) *cfn.Resource {
	t.Helper()
	if st := a.Stack(stack); st != nil {
		for _, r := range st.OfType(typ) {
			if ok == nil || ok(r) {
				return r
			}
		}
	}
	t.Fatalf("%s has no %s to break", stack, typ)
	return nil
}

// anyStack returns the first resource, by stack name, of type typ that
// satisfies ok.
func anyStack(t *testing.T, a *cfn.Assembly, typ string, ok func(*cfn.Resource) bool) *cfn.Resource {
	t.Helper()
	for _, r := range a.Resources(typ) {
		if ok == nil || ok(r) {
			return r
		}
	}
	t.Fatalf("no %s to break", typ)
	return nil
}

// keepStatements keeps the statements of a policy document that keep allows.
func keepStatements(doc any, keep func(st map[string]any) bool) {
	m := cfn.AsMap(doc)
	var kept []any
	for _, st := range cfn.AsList(m["Statement"]) {
		if keep(cfn.AsMap(st)) {
			kept = append(kept, st)
		}
	}
	m["Statement"] = kept
}

// without keeps the statements whose condition does not name key.
func without(key string) func(map[string]any) bool {
	return func(st map[string]any) bool {
		for _, block := range cfn.AsMap(st["Condition"]) {
			if _, ok := cfn.AsMap(block)[key]; ok {
				return false
			}
		}
		return true
	}
}

// appendStatement adds a statement to a policy document.
func appendStatement(doc any, st map[string]any) {
	m := cfn.AsMap(doc)
	m["Statement"] = append(cfn.AsList(m["Statement"]), st)
}

// faultyProduction is a production stack of s with its own VPC, keys,
// launch templates and asset bucket.
func faultyProduction(t *testing.T, s *Synthesized) string {
	t.Helper()
	for _, st := range s.Assembly.Stacks {
		if s.IsProduction(st.Name) && len(st.OfType("AWS::EC2::VPC")) > 0 &&
			len(st.OfType("AWS::KMS::Key")) > 0 && len(st.OfType("AWS::EC2::LaunchTemplate")) > 0 {
			return st.Name
		}
	}
	t.Fatal("the acme estate has no production with its own VPC, keys and launch templates")
	return ""
}

// inGroup selects the resources of one ResourceGroup.
// toLogGroup holds for a flow log to CloudWatch Logs (the account's own
// copy), not for its copy to the log-archive bucket.
func toLogGroup(r *cfn.Resource) bool { return r.Properties["LogGroupName"] != nil }

func not(f func(*cfn.Resource) bool) func(*cfn.Resource) bool {
	return func(r *cfn.Resource) bool { return !f(r) }
}

func inGroup(group string) func(*cfn.Resource) bool {
	return func(r *cfn.Resource) bool { tags, _ := r.Tags(); return tags["ResourceGroup"] == group }
}

// isLogTarget reports whether a bucket receives another bucket's server
// access logs.
func isLogTarget(r *cfn.Resource) bool {
	for _, b := range r.Stack.OfType("AWS::S3::Bucket") {
		if b.Resolve("LoggingConfiguration.DestinationBucketName") == r {
			return true
		}
	}
	return false
}

func policyOf(t *testing.T, a *cfn.Assembly, b *cfn.Resource) *cfn.Resource {
	return find(t, a, b.Stack.Name, "AWS::S3::BucketPolicy", func(p *cfn.Resource) bool { return p.Resolve("Bucket") == b })
}

// dataUser is a principal that a key policy lets use the key for data,
// and the key.
func dataUser(t *testing.T, a *cfn.Assembly) (*cfn.Resource, string) {
	t.Helper()
	for _, p := range a.Policies() {
		if p.Kind != cfn.Key {
			continue
		}
		for _, st := range p.Statements {
			if !st.Grants("kms:Decrypt") {
				continue
			}
			for _, who := range slices.Concat(st.Values(nil, "aws:PrincipalArn"), st.Principal.All()) {
				if who != "*" && !cfn.AccountRoot(who) && strings.Contains(who, ":role/") {
					return p.Resource, who
				}
			}
		}
	}
	t.Fatal("no key policy names a role that uses its key")
	return nil, ""
}

func TestRulesCatchInjectedFaults(t *testing.T) {
	s := synth(t, acmeEstate)
	network := s.NetworkStack()
	prod := faultyProduction(t, s)
	before := rules.Run(s.Assembly)

	const (
		asset  = "asset-storage" // the asset bucket's ResourceGroup
		sseKey = "BucketEncryption.ServerSideEncryptionConfiguration[0].ServerSideEncryptionByDefault"
	)
	// ingress adds an ingress rule to the production's first security group.
	ingress := func(cidr, protocol string, port float64) func(t *testing.T, d draft, sg *cfn.Resource) string {
		return func(t *testing.T, d draft, sg *cfn.Resource) string {
			d.add(prod, "InjectedIngress", map[string]any{"Type": "AWS::EC2::SecurityGroupIngress", "Properties": map[string]any{
				"GroupId": map[string]any{"Fn::GetAtt": []any{sg.ID, "GroupId"}}, "CidrIp": cidr, "IpProtocol": protocol, "FromPort": port, "ToPort": port}})
			return prod + "/InjectedIngress"
		}
	}
	// route adds a route to dest to the production's first route table.
	route := func(dest func(d draft) any) func(t *testing.T, d draft, rt *cfn.Resource) string {
		return func(t *testing.T, d draft, rt *cfn.Resource) string {
			d.add(prod, "InjectedRoute", map[string]any{"Type": "AWS::EC2::Route", "Properties": map[string]any{
				"DestinationCidrBlock": dest(d), "RouteTableId": map[string]any{"Ref": rt.ID}, "TransitGatewayId": "tgw-0123456789abcdef0"}})
			return prod + "/InjectedRoute"
		}
	}
	cases := []struct {
		name, rule string
		// The resource to break: the first of type typ in the production
		// stack (in any stack with anywhere) for which which holds.
		typ      string
		which    func(*cfn.Resource) bool
		anywhere bool
		// inject breaks the draft and returns the resource the rule must
		// name, as stack/LogicalId ("": the resource it was given).
		inject func(t *testing.T, d draft, r *cfn.Resource) string
	}{
		{name: "internet gateway in a production", rule: "RE-NET-001", inject: func(t *testing.T, d draft, _ *cfn.Resource) string {
			d.add(prod, "InjectedIgw", map[string]any{"Type": "AWS::EC2::InternetGateway"})
			return prod + "/InjectedIgw"
		}},
		{name: "public subnet in a production", rule: "RE-NET-002", typ: "AWS::EC2::Subnet", inject: set("MapPublicIpOnLaunch", true)},
		{name: "default route in a production", rule: "RE-NET-003", typ: "AWS::EC2::RouteTable",
			inject: route(func(draft) any { return "0.0.0.0/0" })},
		{name: "route to another production's range", rule: "RE-NET-013", typ: "AWS::EC2::RouteTable", inject: route(func(d draft) any {
			return anyStack(t, d.Assembly, "AWS::EC2::VPC", func(r *cfn.Resource) bool { return r.Stack.Name != prod && r.Stack.Name != network }).Properties["CidrBlock"]
		})},
		{name: "NAT gateway outside the front end", rule: "RE-NET-004", typ: "AWS::EC2::NatGateway", anywhere: true, inject: func(t *testing.T, d draft, nat *cfn.Resource) string {
			other := find(t, d.Assembly, network, "AWS::EC2::Subnet", func(r *cfn.Resource) bool {
				tags, _ := r.Tags()
				return tags["aws-cdk:subnet-name"] != "front-end"
			})
			nat.Properties["SubnetId"] = map[string]any{"Ref": other.ID}
			return ""
		}},
		{name: "flow log of rejected traffic only", rule: "RE-AUD-003", typ: "AWS::EC2::FlowLog", inject: set("TrafficType", "REJECT")},
		{name: "flow log group without a key", rule: "RE-AUD-003", typ: "AWS::EC2::FlowLog", which: toLogGroup, inject: func(t *testing.T, d draft, fl *cfn.Resource) string {
			g := fl.Resolve("LogGroupName")
			if g == nil {
				g = fl.Resolve("LogDestination")
			}
			delete(g.Properties, "KmsKeyId")
			return fl.Resolve("ResourceId").String()
		}},
		{name: "flow logs kept only in the production's account", rule: "RE-AUD-006", typ: "AWS::EC2::FlowLog", which: not(toLogGroup), inject: func(t *testing.T, d draft, fl *cfn.Resource) string {
			delete(cfn.AsMap(fl.Stack.Raw["Resources"]), fl.ID)
			return fl.Resolve("ResourceId").String()
		}},
		{name: "flow log copy to a bucket outside the log-archive account", rule: "RE-AUD-006", typ: "AWS::EC2::FlowLog", which: not(toLogGroup), inject: func(t *testing.T, d draft, fl *cfn.Resource) string {
			fl.Properties["LogDestination"] = "arn:aws:s3:::acme-nightfall-flow-logs/"
			return fl.Resolve("ResourceId").String()
		}},
		{name: "sessions kept only in the production's account", rule: "RE-RND-009", typ: "AWS::SSM::Document", inject: set("Content.inputs.s3BucketName", nil)},
		{name: "sessions archived under a prefix no policy gives the production", rule: "RE-RND-009", typ: "AWS::SSM::Document", inject: set("Content.inputs.s3KeyPrefix", "sessions/000000000000/elsewhere")},
		{name: "DNS Firewall rule group that ends by allowing", rule: "RE-NET-014", typ: "AWS::Route53Resolver::FirewallRuleGroup",
			inject: lastDNSRule(func(rule map[string]any) { rule["Action"] = "ALLOW" })},
		{name: "DNS Firewall that answers blocked names with an override", rule: "RE-NET-014", typ: "AWS::Route53Resolver::FirewallRuleGroup",
			inject: lastDNSRule(func(rule map[string]any) { rule["BlockResponse"] = "OVERRIDE" })},
		{name: "DNS Firewall whose last rule blocks one name", rule: "RE-NET-014", typ: "AWS::Route53Resolver::FirewallRuleGroup", inject: func(t *testing.T, d draft, g *cfn.Resource) string {
			l := find(t, d.Assembly, prod, "AWS::Route53Resolver::FirewallDomainList", func(r *cfn.Resource) bool {
				return slices.Contains(r.Stack.Strings(r.Properties["Domains"]), "*")
			})
			l.Properties["Domains"] = []any{"evil.example"}
			return ""
		}},
		{name: "VPC without a DNS Firewall", rule: "RE-NET-014", typ: "AWS::Route53Resolver::FirewallRuleGroupAssociation", inject: func(t *testing.T, d draft, a *cfn.Resource) string {
			delete(cfn.AsMap(a.Stack.Raw["Resources"]), a.ID)
			return a.Resolve("VpcId").String()
		}},
		{name: "DNS queries not logged", rule: "RE-NET-015", typ: "AWS::Route53Resolver::ResolverQueryLoggingConfigAssociation", inject: func(t *testing.T, d draft, a *cfn.Resource) string {
			delete(cfn.AsMap(a.Stack.Raw["Resources"]), a.ID)
			return a.Resolve("ResourceId").String()
		}},
		{name: "DNS query log group without a key", rule: "RE-NET-015", typ: "AWS::Logs::LogGroup", which: func(r *cfn.Resource) bool {
			return strings.HasSuffix(r.Stack.String(r.Properties["LogGroupName"]), "/dns-queries")
		}, inject: set("KmsKeyId", nil)},
		{name: "key without rotation", rule: "RE-KEY-001", typ: "AWS::KMS::Key", inject: set("EnableKeyRotation", false)},
		{name: "key deleted with the stack", rule: "RE-KEY-002", typ: "AWS::KMS::Key", inject: deleted},
		{name: "key policy grants kms:*", rule: "RE-KEY-004", typ: "AWS::KMS::Key", inject: func(t *testing.T, d draft, k *cfn.Resource) string {
			appendStatement(k.Properties["KeyPolicy"], map[string]any{"Sid": "Injected", "Effect": "Allow", "Action": "kms:*",
				"Principal": map[string]any{"AWS": "*"}, "Resource": "*"})
			return ""
		}},
		{name: "key users may also administer", rule: "RE-KEY-005", inject: func(t *testing.T, d draft, _ *cfn.Resource) string {
			k, user := dataUser(t, d.Assembly)
			appendStatement(k.Properties["KeyPolicy"], map[string]any{
				"Sid": "InjectedAdmins", "Effect": "Allow", "Action": []any{"kms:PutKeyPolicy", "kms:ScheduleKeyDeletion"},
				"Principal": map[string]any{"AWS": "*"}, "Resource": "*",
				"Condition": map[string]any{"ArnLike": map[string]any{"aws:PrincipalArn": user}}})
			return k.String()
		}},
		{name: "role both administers and uses keys", rule: "RE-IAM-001", inject: func(t *testing.T, d draft, _ *cfn.Resource) string {
			for _, p := range d.Policies() {
				if p.Kind != cfn.Identity || len(p.Roles) == 0 || p.Resource.Type != "AWS::IAM::Policy" ||
					!slices.ContainsFunc(p.Statements, func(st cfn.Statement) bool { return st.Grants("kms:Decrypt") }) {
					continue
				}
				appendStatement(p.Resource.Properties["PolicyDocument"], map[string]any{"Sid": "InjectedAdmin", "Effect": "Allow",
					"Action": "kms:ScheduleKeyDeletion", "Resource": "*"})
				return p.Roles[0].String()
			}
			t.Fatal("no role policy uses a key to break")
			return ""
		}},
		{name: "bucket accepts public policies", rule: "RE-STO-001", typ: "AWS::S3::Bucket", which: inGroup(asset),
			inject: set("PublicAccessBlockConfiguration.BlockPublicPolicy", false)},
		{name: "bucket accepts plain HTTP", rule: "RE-STO-002", typ: "AWS::S3::Bucket", which: inGroup(asset), inject: withoutStatements("aws:SecureTransport")},
		{name: "access log target encrypted with KMS", rule: "RE-STO-003", typ: "AWS::S3::Bucket", which: isLogTarget,
			inject: set(sseKey+".SSEAlgorithm", "aws:kms")},
		{name: "asset bucket with S3-managed keys", rule: "RE-STO-003", typ: "AWS::S3::Bucket", which: inGroup(asset), inject: func(t *testing.T, d draft, b *cfn.Resource) string {
			sse := cfn.AsMap(b.Prop(sseKey))
			sse["SSEAlgorithm"] = "AES256"
			delete(sse, "KMSMasterKeyID")
			return ""
		}},
		{name: "asset bucket with the AWS-managed key", rule: "RE-STO-003", typ: "AWS::S3::Bucket", which: inGroup(asset),
			inject: set(sseKey+".KMSMasterKeyID", "alias/aws/s3")},
		{name: "asset bucket takes writes with any key", rule: "RE-STO-004", typ: "AWS::S3::Bucket", which: inGroup(asset),
			inject: withoutStatements("s3:x-amz-server-side-encryption-aws-kms-key-id")},
		{name: "asset bucket open outside the VPC", rule: "RE-STO-005", typ: "AWS::S3::Bucket", which: inGroup(asset), inject: withoutStatements("aws:SourceVpce")},
		{name: "bucket deleted with the stack", rule: "RE-STO-006", typ: "AWS::S3::Bucket", which: inGroup(asset), inject: deleted},
		{name: "SSH from the internet", rule: "RE-NET-007", typ: "AWS::EC2::SecurityGroup", inject: ingress("0.0.0.0/0", "tcp", 22)},
		{name: "SSH from a private range", rule: "RE-NET-008", typ: "AWS::EC2::SecurityGroup", inject: ingress("10.0.0.0/8", "tcp", 22)},
		{name: "all traffic from a private range", rule: "RE-NET-008", typ: "AWS::EC2::SecurityGroup", inject: func(t *testing.T, d draft, sg *cfn.Resource) string {
			sg.Properties["SecurityGroupIngress"] = append(cfn.AsList(sg.Properties["SecurityGroupIngress"]), map[string]any{"CidrIp": "10.0.0.0/8", "IpProtocol": "-1"})
			return ""
		}},
		{name: "IMDSv1", rule: "RE-RND-001", typ: "AWS::EC2::LaunchTemplate", inject: set("LaunchTemplateData.MetadataOptions.HttpTokens", "optional")},
		{name: "public IP on render nodes", rule: "RE-RND-002", typ: "AWS::EC2::LaunchTemplate", inject: set("LaunchTemplateData.NetworkInterfaces",
			[]any{map[string]any{"DeviceIndex": 0.0, "AssociatePublicIpAddress": true}})},
		{name: "unencrypted root volume", rule: "RE-RND-004", typ: "AWS::EC2::LaunchTemplate", inject: set("LaunchTemplateData.BlockDeviceMappings[0].Ebs.Encrypted", false)},
		{name: "root volume with the AWS-managed key", rule: "RE-RND-004", typ: "AWS::EC2::LaunchTemplate",
			inject: set("LaunchTemplateData.BlockDeviceMappings[0].Ebs.KmsKeyId", "alias/aws/ebs")},
		{name: "single-region trail", rule: "RE-AUD-001", typ: "AWS::CloudTrail::Trail", anywhere: true, inject: set("IsMultiRegionTrail", false)},
		{name: "trail with the AWS-managed key", rule: "RE-AUD-002", typ: "AWS::CloudTrail::Trail", anywhere: true, inject: set("KMSKeyId", nil)},
		{name: "untagged bucket", rule: "RE-TAG-001", typ: "AWS::S3::Bucket", which: inGroup(asset), inject: set("Tags", nil)},
		{name: "unknown resource group", rule: "RE-TAG-001", typ: "AWS::S3::Bucket", which: inGroup(asset), inject: func(t *testing.T, d draft, b *cfn.Resource) string {
			for _, tag := range cfn.AsList(b.Properties["Tags"]) {
				if m := cfn.AsMap(tag); m["Key"] == "ResourceGroup" {
					m["Value"] = "misc"
				}
			}
			return ""
		}},
		{name: "render nodes launched untagged", rule: "RE-TAG-002", typ: "AWS::EC2::LaunchTemplate", inject: set("LaunchTemplateData.TagSpecifications", nil)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rule, ok := rules.Lookup(tc.rule)
			if !ok {
				t.Fatalf("no rule %s", tc.rule)
			}
			d := newDraft(t, s.Assembly)
			var r *cfn.Resource
			switch {
			case tc.typ == "":
			case tc.anywhere:
				r = anyStack(t, d.Assembly, tc.typ, tc.which)
			default:
				r = find(t, d.Assembly, prod, tc.typ, tc.which)
			}
			want := tc.inject(t, d, r)
			if want == "" {
				want = r.String()
			}
			if got := findingsAt(before, tc.rule, want); len(got) > 0 {
				t.Fatalf("the unbroken estate already has %s at %s; the case proves nothing:\n%s", tc.rule, want, strings.Join(got, "\n"))
			}
			after := rules.Run(d.assemble(t), rule)
			if len(findingsAt(after, tc.rule, want)) == 0 {
				var got []string
				for _, f := range after {
					got = append(got, f.String())
				}
				t.Errorf("after breaking the template, want %s to name %s; it found:\n%s", tc.rule, want, strings.Join(got, "\n"))
			}
		})
	}
}

// set sets the property at a dotted path of the resource to break (nil
// deletes it); the path's parents must exist.
func set(path string, v any) func(t *testing.T, d draft, r *cfn.Resource) string {
	return func(t *testing.T, d draft, r *cfn.Resource) string {
		parent, key := "", path
		if i := strings.LastIndex(path, "."); i >= 0 {
			parent, key = path[:i], path[i+1:]
		}
		m := cfn.AsMap(r.Prop(parent))
		if m == nil {
			t.Fatalf("%s has no %s to break", r, parent)
		}
		if v == nil {
			delete(m, key)
		} else {
			m[key] = v
		}
		return ""
	}
}

// lastDNSRule edits the last rule (the highest priority number) of a DNS
// Firewall rule group.
func lastDNSRule(edit func(rule map[string]any)) func(t *testing.T, d draft, g *cfn.Resource) string {
	return func(t *testing.T, d draft, g *cfn.Resource) string {
		var last map[string]any
		for _, r := range cfn.AsList(g.Properties["FirewallRules"]) {
			p, _ := cfn.Number(cfn.AsMap(r)["Priority"])
			if lp, _ := cfn.Number(last["Priority"]); last == nil || p > lp {
				last = cfn.AsMap(r)
			}
		}
		if last == nil {
			t.Fatalf("%s has no rules to break", g)
		}
		edit(last)
		return ""
	}
}

// deleted makes the stack delete the resource with itself.
func deleted(t *testing.T, d draft, r *cfn.Resource) string {
	body(r)["DeletionPolicy"] = "Delete"
	return ""
}

// withoutStatements drops the statements of the bucket's policy whose
// condition names key.
func withoutStatements(key string) func(t *testing.T, d draft, b *cfn.Resource) string {
	return func(t *testing.T, d draft, b *cfn.Resource) string {
		keepStatements(policyOf(t, d.Assembly, b).Properties["PolicyDocument"], without(key))
		return ""
	}
}

// findingsAt are the findings of rule at resource (stack/LogicalId).
func findingsAt(fs []rules.Finding, rule, resource string) []string {
	var out []string
	for _, f := range fs {
		if f.Rule == rule && f.Stack+"/"+f.LogicalID == resource {
			out = append(out, f.String())
		}
	}
	return out
}

// The Go checks that no rule can express must be able to fail too.
func TestCompletenessAndQuotaChecksCatchInjectedFaults(t *testing.T) {
	s := synth(t, acmeEstate)
	prod := faultyProduction(t, s)
	cases := []struct {
		name   string
		check  invariant
		inject func(t *testing.T, d draft) (want string)
	}{
		{"stack over the resource limit", checkTemplatesStayWithinCloudFormationLimits, func(t *testing.T, d draft) string {
			for i := range maxResources {
				d.add(prod, fmt.Sprintf("Injected%d", i), map[string]any{"Type": "AWS::CloudFormation::WaitConditionHandle"})
			}
			return fmt.Sprintf("%s: %d resources", prod, len(d.Stack(prod).Resources)+maxResources)
		}},
		{"production without launch templates", checkEveryProductionIsBuiltAsItsManifestAsks, func(t *testing.T, d draft) string {
			for _, lt := range d.Stack(prod).OfType("AWS::EC2::LaunchTemplate") {
				delete(cfn.AsMap(d.Stack(prod).Raw["Resources"]), lt.ID)
			}
			return prod + ": production stack without a render launch template"
		}},
		{"production without its asset bucket", checkEveryProductionIsBuiltAsItsManifestAsks, func(t *testing.T, d draft) string {
			b := find(t, d.Assembly, prod, "AWS::S3::Bucket", inGroup("asset-storage"))
			delete(cfn.AsMap(d.Stack(prod).Raw["Resources"]), b.ID)
			return prod + ": 0 asset buckets"
		}},
		{"production missing", checkEveryProductionIsBuiltAsItsManifestAsks, func(t *testing.T, d draft) string {
			d.Stacks = slices.DeleteFunc(d.Stacks, func(st *cfn.Stack) bool { return st.Name == prod })
			return prod + ": production " + strings.TrimPrefix(prod, s.studio()+"-") + " was not synthesized"
		}},
	}
	quiet := func(string, ...any) {}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d := newDraft(t, s.Assembly)
			want := tc.inject(t, d)
			if got := strings.Join(tc.check(s, quiet), "\n"); strings.Contains(got, want) {
				t.Fatalf("the unbroken estate already reports %q; the case proves nothing:\n%s", want, got)
			}
			broken := *s
			broken.Assembly = d.assemble(t)
			if got := strings.Join(tc.check(&broken, quiet), "\n"); !strings.Contains(got, want) {
				t.Errorf("after breaking the estate, want a finding containing %q; got:\n%s", want, got)
			}
		})
	}
}
