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

func isAsset(r *cfn.Resource) bool {
	tags, _ := r.Tags()
	return tags["ResourceGroup"] == "asset-storage"
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

func firstVolume(lt *cfn.Resource) map[string]any {
	return cfn.AsMap(lt.Prop("LaunchTemplateData.BlockDeviceMappings[0].Ebs"))
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

	cases := []struct {
		name, rule string
		// inject breaks the draft and returns the resource the rule must
		// name, as stack/LogicalId.
		inject func(t *testing.T, d draft) string
	}{
		{"internet gateway in a production", "RE-NET-001", func(t *testing.T, d draft) string {
			d.add(prod, "InjectedIgw", map[string]any{"Type": "AWS::EC2::InternetGateway"})
			return prod + "/InjectedIgw"
		}},
		{"public subnet in a production", "RE-NET-002", func(t *testing.T, d draft) string {
			sn := find(t, d.Assembly, prod, "AWS::EC2::Subnet", nil)
			sn.Properties["MapPublicIpOnLaunch"] = true
			return sn.String()
		}},
		{"default route in a production", "RE-NET-003", func(t *testing.T, d draft) string {
			rt := find(t, d.Assembly, prod, "AWS::EC2::RouteTable", nil)
			d.add(prod, "InjectedDefault", map[string]any{"Type": "AWS::EC2::Route", "Properties": map[string]any{
				"DestinationCidrBlock": "0.0.0.0/0", "RouteTableId": map[string]any{"Ref": rt.ID}, "TransitGatewayId": "tgw-0123456789abcdef0"}})
			return prod + "/InjectedDefault"
		}},
		{"route to another production's range", "RE-NET-013", func(t *testing.T, d draft) string {
			rt := find(t, d.Assembly, prod, "AWS::EC2::RouteTable", nil)
			other := anyStack(t, d.Assembly, "AWS::EC2::VPC", func(r *cfn.Resource) bool { return r.Stack.Name != prod && r.Stack.Name != network })
			d.add(prod, "InjectedPeer", map[string]any{"Type": "AWS::EC2::Route", "Properties": map[string]any{
				"DestinationCidrBlock": other.Properties["CidrBlock"], "RouteTableId": map[string]any{"Ref": rt.ID}, "TransitGatewayId": "tgw-0123456789abcdef0"}})
			return prod + "/InjectedPeer"
		}},
		{"NAT gateway outside the front end", "RE-NET-004", func(t *testing.T, d draft) string {
			other := find(t, d.Assembly, network, "AWS::EC2::Subnet", func(r *cfn.Resource) bool {
				tags, _ := r.Tags()
				return tags["aws-cdk:subnet-name"] != "front-end"
			})
			nat := find(t, d.Assembly, network, "AWS::EC2::NatGateway", nil)
			nat.Properties["SubnetId"] = map[string]any{"Ref": other.ID}
			return nat.String()
		}},
		{"flow log of rejected traffic only", "RE-AUD-003", func(t *testing.T, d draft) string {
			fl := find(t, d.Assembly, prod, "AWS::EC2::FlowLog", nil)
			fl.Properties["TrafficType"] = "REJECT"
			return fl.String()
		}},
		{"flow log group without a key", "RE-AUD-003", func(t *testing.T, d draft) string {
			fl := find(t, d.Assembly, prod, "AWS::EC2::FlowLog", nil)
			g := fl.Resolve("LogGroupName")
			if g == nil {
				g = fl.Resolve("LogDestination")
			}
			delete(g.Properties, "KmsKeyId")
			return fl.Resolve("ResourceId").String()
		}},
		{"key without rotation", "RE-KEY-001", func(t *testing.T, d draft) string {
			k := find(t, d.Assembly, prod, "AWS::KMS::Key", nil)
			k.Properties["EnableKeyRotation"] = false
			return k.String()
		}},
		{"key deleted with the stack", "RE-KEY-002", func(t *testing.T, d draft) string {
			k := find(t, d.Assembly, prod, "AWS::KMS::Key", nil)
			body(k)["DeletionPolicy"] = "Delete"
			return k.String()
		}},
		{"key policy grants kms:*", "RE-KEY-004", func(t *testing.T, d draft) string {
			k := find(t, d.Assembly, prod, "AWS::KMS::Key", nil)
			appendStatement(k.Properties["KeyPolicy"], map[string]any{"Sid": "Injected", "Effect": "Allow", "Action": "kms:*",
				"Principal": map[string]any{"AWS": "*"}, "Resource": "*"})
			return k.String()
		}},
		{"key users may also administer", "RE-KEY-005", func(t *testing.T, d draft) string {
			k, user := dataUser(t, d.Assembly)
			appendStatement(k.Properties["KeyPolicy"], map[string]any{
				"Sid": "InjectedAdmins", "Effect": "Allow", "Action": []any{"kms:PutKeyPolicy", "kms:ScheduleKeyDeletion"},
				"Principal": map[string]any{"AWS": "*"}, "Resource": "*",
				"Condition": map[string]any{"ArnLike": map[string]any{"aws:PrincipalArn": user}}})
			return k.String()
		}},
		{"role both administers and uses keys", "RE-IAM-001", func(t *testing.T, d draft) string {
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
		{"bucket accepts public policies", "RE-STO-001", func(t *testing.T, d draft) string {
			b := find(t, d.Assembly, prod, "AWS::S3::Bucket", isAsset)
			cfn.AsMap(b.Properties["PublicAccessBlockConfiguration"])["BlockPublicPolicy"] = false
			return b.String()
		}},
		{"bucket accepts plain HTTP", "RE-STO-002", func(t *testing.T, d draft) string {
			b := find(t, d.Assembly, prod, "AWS::S3::Bucket", isAsset)
			keepStatements(policyOf(t, d.Assembly, b).Properties["PolicyDocument"], without("aws:SecureTransport"))
			return b.String()
		}},
		{"access log target encrypted with KMS", "RE-STO-003", func(t *testing.T, d draft) string {
			b := find(t, d.Assembly, prod, "AWS::S3::Bucket", isLogTarget)
			cfn.AsMap(b.Prop("BucketEncryption.ServerSideEncryptionConfiguration[0].ServerSideEncryptionByDefault"))["SSEAlgorithm"] = "aws:kms"
			return b.String()
		}},
		{"asset bucket with S3-managed keys", "RE-STO-003", func(t *testing.T, d draft) string {
			b := find(t, d.Assembly, prod, "AWS::S3::Bucket", isAsset)
			sse := cfn.AsMap(b.Prop("BucketEncryption.ServerSideEncryptionConfiguration[0].ServerSideEncryptionByDefault"))
			sse["SSEAlgorithm"] = "AES256"
			delete(sse, "KMSMasterKeyID")
			return b.String()
		}},
		{"asset bucket with the AWS-managed key", "RE-STO-003", func(t *testing.T, d draft) string {
			b := find(t, d.Assembly, prod, "AWS::S3::Bucket", isAsset)
			cfn.AsMap(b.Prop("BucketEncryption.ServerSideEncryptionConfiguration[0].ServerSideEncryptionByDefault"))["KMSMasterKeyID"] = "alias/aws/s3"
			return b.String()
		}},
		{"asset bucket takes writes with any key", "RE-STO-004", func(t *testing.T, d draft) string {
			b := find(t, d.Assembly, prod, "AWS::S3::Bucket", isAsset)
			keepStatements(policyOf(t, d.Assembly, b).Properties["PolicyDocument"], without("s3:x-amz-server-side-encryption-aws-kms-key-id"))
			return b.String()
		}},
		{"asset bucket open outside the VPC", "RE-STO-005", func(t *testing.T, d draft) string {
			b := find(t, d.Assembly, prod, "AWS::S3::Bucket", isAsset)
			keepStatements(policyOf(t, d.Assembly, b).Properties["PolicyDocument"], without("aws:SourceVpce"))
			return b.String()
		}},
		{"bucket deleted with the stack", "RE-STO-006", func(t *testing.T, d draft) string {
			b := find(t, d.Assembly, prod, "AWS::S3::Bucket", isAsset)
			body(b)["DeletionPolicy"] = "Delete"
			return b.String()
		}},
		{"SSH from the internet", "RE-NET-007", func(t *testing.T, d draft) string {
			sg := find(t, d.Assembly, prod, "AWS::EC2::SecurityGroup", nil)
			d.add(prod, "InjectedSsh", map[string]any{"Type": "AWS::EC2::SecurityGroupIngress", "Properties": map[string]any{
				"GroupId": map[string]any{"Fn::GetAtt": []any{sg.ID, "GroupId"}}, "CidrIp": "0.0.0.0/0", "IpProtocol": "tcp", "FromPort": 22.0, "ToPort": 22.0}})
			return prod + "/InjectedSsh"
		}},
		{"SSH from a private range", "RE-NET-008", func(t *testing.T, d draft) string {
			sg := find(t, d.Assembly, prod, "AWS::EC2::SecurityGroup", nil)
			d.add(prod, "InjectedSsh", map[string]any{"Type": "AWS::EC2::SecurityGroupIngress", "Properties": map[string]any{
				"GroupId": map[string]any{"Fn::GetAtt": []any{sg.ID, "GroupId"}}, "CidrIp": "10.0.0.0/8", "IpProtocol": "tcp", "FromPort": 22.0, "ToPort": 22.0}})
			return prod + "/InjectedSsh"
		}},
		{"all traffic from a private range", "RE-NET-008", func(t *testing.T, d draft) string {
			sg := find(t, d.Assembly, prod, "AWS::EC2::SecurityGroup", nil)
			sg.Properties["SecurityGroupIngress"] = append(cfn.AsList(sg.Properties["SecurityGroupIngress"]), map[string]any{"CidrIp": "10.0.0.0/8", "IpProtocol": "-1"})
			return sg.String()
		}},
		{"IMDSv1", "RE-RND-001", func(t *testing.T, d draft) string {
			lt := find(t, d.Assembly, prod, "AWS::EC2::LaunchTemplate", nil)
			cfn.AsMap(lt.Prop("LaunchTemplateData.MetadataOptions"))["HttpTokens"] = "optional"
			return lt.String()
		}},
		{"public IP on render nodes", "RE-RND-002", func(t *testing.T, d draft) string {
			lt := find(t, d.Assembly, prod, "AWS::EC2::LaunchTemplate", nil)
			cfn.AsMap(lt.Properties["LaunchTemplateData"])["NetworkInterfaces"] = []any{map[string]any{"DeviceIndex": 0.0, "AssociatePublicIpAddress": true}}
			return lt.String()
		}},
		{"unencrypted root volume", "RE-RND-004", func(t *testing.T, d draft) string {
			lt := find(t, d.Assembly, prod, "AWS::EC2::LaunchTemplate", nil)
			firstVolume(lt)["Encrypted"] = false
			return lt.String()
		}},
		{"root volume with the AWS-managed key", "RE-RND-004", func(t *testing.T, d draft) string {
			lt := find(t, d.Assembly, prod, "AWS::EC2::LaunchTemplate", nil)
			firstVolume(lt)["KmsKeyId"] = "alias/aws/ebs"
			return lt.String()
		}},
		{"single-region trail", "RE-AUD-001", func(t *testing.T, d draft) string {
			tr := anyStack(t, d.Assembly, "AWS::CloudTrail::Trail", nil)
			tr.Properties["IsMultiRegionTrail"] = false
			return tr.String()
		}},
		{"trail with the AWS-managed key", "RE-AUD-002", func(t *testing.T, d draft) string {
			tr := anyStack(t, d.Assembly, "AWS::CloudTrail::Trail", nil)
			delete(tr.Properties, "KMSKeyId")
			return tr.String()
		}},
		{"untagged bucket", "RE-TAG-001", func(t *testing.T, d draft) string {
			b := find(t, d.Assembly, prod, "AWS::S3::Bucket", isAsset)
			delete(b.Properties, "Tags")
			return b.String()
		}},
		{"unknown resource group", "RE-TAG-001", func(t *testing.T, d draft) string {
			b := find(t, d.Assembly, prod, "AWS::S3::Bucket", isAsset)
			for _, tag := range cfn.AsList(b.Properties["Tags"]) {
				if m := cfn.AsMap(tag); m["Key"] == "ResourceGroup" {
					m["Value"] = "misc"
				}
			}
			return b.String()
		}},
		{"render nodes launched untagged", "RE-TAG-002", func(t *testing.T, d draft) string {
			lt := find(t, d.Assembly, prod, "AWS::EC2::LaunchTemplate", nil)
			delete(cfn.AsMap(lt.Properties["LaunchTemplateData"]), "TagSpecifications")
			return lt.String()
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rule, ok := rules.Lookup(tc.rule)
			if !ok {
				t.Fatalf("no rule %s", tc.rule)
			}
			d := newDraft(t, s.Assembly)
			want := tc.inject(t, d)
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
			b := find(t, d.Assembly, prod, "AWS::S3::Bucket", isAsset)
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
