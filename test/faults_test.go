package test

import (
	"fmt"
	"strings"
	"testing"
)

// Every invariant checker must be able to fail. Each case below breaks one
// rule in a copy of the acme estate's templates and expects the checker
// to name the broken resource; the unbroken estate must not produce that
// finding, so the finding is the fault's and nothing else's.

// find returns the first resource of stack with type typ that satisfies ok.
func find(t *testing.T, ts Templates, stack, typ string, ok func(Resource) bool) Resource {
	t.Helper()
	for _, r := range ts.In(stack, typ) {
		if ok == nil || ok(r) {
			return r
		}
	}
	t.Fatalf("%s has no %s to break", stack, typ)
	return Resource{}
}

// anyStack returns the first stack, by name, with a resource of typ that
// satisfies ok.
func anyStack(t *testing.T, ts Templates, typ string, ok func(Resource) bool) Resource {
	t.Helper()
	for _, r := range ts.All(typ) {
		if ok == nil || ok(r) {
			return r
		}
	}
	t.Fatalf("no %s to break", typ)
	return Resource{}
}

func addResource(ts Templates, stack, id string, body map[string]any) {
	asMap(ts[stack]["Resources"])[id] = body
}

// keepStatements keeps the statements of a policy document that keep allows.
func keepStatements(doc any, keep func(statement) bool) {
	m := asMap(doc)
	var kept []any
	for _, st := range statements(doc) {
		if keep(st) {
			kept = append(kept, st.body)
		}
	}
	m["Statement"] = kept
}

func hasCondition(key string) func(statement) bool {
	return func(st statement) bool {
		_, values := st.conditionValues(key)
		return len(values) == 0
	}
}

func TestInvariantCheckersCatchInjectedFaults(t *testing.T) {
	s := synth(t, acmeEstate)
	network := s.NetworkStack()
	// A production with its own VPC, keys and launch templates.
	prod := ""
	for _, stack := range s.Templates.Stacks() {
		if s.IsProduction(stack) && len(s.Templates.In(stack, "AWS::EC2::VPC")) > 0 &&
			len(s.Templates.In(stack, "AWS::KMS::Key")) > 0 && len(s.Templates.In(stack, "AWS::EC2::LaunchTemplate")) > 0 {
			prod = stack
			break
		}
	}
	if prod == "" {
		t.Fatal("the acme estate has no production with its own VPC, keys and launch templates")
	}
	isAsset := func(r Resource) bool {
		name, _ := r.Props["BucketName"].(string)
		return strings.Contains(name, "-assets-")
	}
	isLogTarget := func(r Resource) bool { _, ok := accessLogTargets(s.Templates)[r.Stack+"/"+r.ID]; return ok }
	policyOf := func(ts Templates, b Resource) Resource {
		return find(t, ts, b.Stack, "AWS::S3::BucketPolicy", func(p Resource) bool { id, _ := ref(p.Props["Bucket"]); return id == b.ID })
	}
	firstVolume := func(lt Resource) map[string]any {
		data := asMap(lt.Props["LaunchTemplateData"])
		return asMap(asMap(asList(data["BlockDeviceMappings"])[0])["Ebs"])
	}

	cases := []struct {
		name   string
		check  invariant
		inject func(t *testing.T, ts Templates) (want string)
	}{
		{"internet gateway in a production", checkInternetAccessExistsOnlyInManagementFrontEnd, func(t *testing.T, ts Templates) string {
			addResource(ts, prod, "InjectedIgw", map[string]any{"Type": "AWS::EC2::InternetGateway"})
			return prod + "/InjectedIgw"
		}},
		{"public subnet in a production", checkInternetAccessExistsOnlyInManagementFrontEnd, func(t *testing.T, ts Templates) string {
			sn := find(t, ts, prod, "AWS::EC2::Subnet", nil)
			sn.Props["MapPublicIpOnLaunch"] = true
			return sn.String() + ": public subnet"
		}},
		{"NAT gateway outside the front end", checkInternetAccessExistsOnlyInManagementFrontEnd, func(t *testing.T, ts Templates) string {
			other := find(t, ts, network, "AWS::EC2::Subnet", func(r Resource) bool { tg, _ := tags(r); return tg["aws-cdk:subnet-name"] != frontEndSubnet })
			nat := find(t, ts, network, "AWS::EC2::NatGateway", nil)
			nat.Props["SubnetId"] = map[string]any{"Ref": other.ID}
			return nat.String() + ": NAT gateway in subnet"
		}},
		{"flow log of rejected traffic only", checkEveryVpcHasFlowLogsToAnEncryptedLogGroup, func(t *testing.T, ts Templates) string {
			fl := find(t, ts, prod, "AWS::EC2::FlowLog", nil)
			fl.Props["TrafficType"] = "REJECT"
			return "TrafficType REJECT, want ALL"
		}},
		{"flow log group without a key", checkEveryVpcHasFlowLogsToAnEncryptedLogGroup, func(t *testing.T, ts Templates) string {
			fl := find(t, ts, prod, "AWS::EC2::FlowLog", nil)
			id, _ := refOrAtt(fl.Props["LogGroupName"])
			g, _ := ts.Get(prod, id)
			delete(g.Props, "KmsKeyId")
			return "has no KmsKeyId"
		}},
		{"DNS Firewall rule group that ends by allowing", checkEveryProductionVpcHasAWalledGardenDnsFirewallAndQueryLogs, func(t *testing.T, ts Templates) string {
			g := find(t, ts, prod, "AWS::Route53Resolver::FirewallRuleGroup", nil)
			rules := asList(g.Props["FirewallRules"])
			asMap(rules[len(rules)-1])["Action"] = "ALLOW"
			return "does not block every other name last: the last rule's action is ALLOW"
		}},
		{"DNS Firewall whose last rule blocks one name", checkEveryProductionVpcHasAWalledGardenDnsFirewallAndQueryLogs, func(t *testing.T, ts Templates) string {
			l := find(t, ts, prod, "AWS::Route53Resolver::FirewallDomainList", func(r Resource) bool { return contains(strs(r.Props["Domains"]), "*") })
			l.Props["Domains"] = []any{"evil.example"}
			return "the last rule blocks [evil.example], not every name (*)"
		}},
		{"VPC without a DNS Firewall", checkEveryProductionVpcHasAWalledGardenDnsFirewallAndQueryLogs, func(t *testing.T, ts Templates) string {
			a := find(t, ts, prod, "AWS::Route53Resolver::FirewallRuleGroupAssociation", nil)
			delete(asMap(ts[prod]["Resources"]), a.ID)
			return "no DNS Firewall rule group associated"
		}},
		{"DNS queries not logged", checkEveryProductionVpcHasAWalledGardenDnsFirewallAndQueryLogs, func(t *testing.T, ts Templates) string {
			a := find(t, ts, prod, "AWS::Route53Resolver::ResolverQueryLoggingConfigAssociation", nil)
			delete(asMap(ts[prod]["Resources"]), a.ID)
			return "DNS queries not logged"
		}},
		{"DNS query log group without a key", checkEveryProductionVpcHasAWalledGardenDnsFirewallAndQueryLogs, func(t *testing.T, ts Templates) string {
			g := find(t, ts, prod, "AWS::Logs::LogGroup", func(r Resource) bool {
				n, _ := r.Props["LogGroupName"].(string)
				return strings.HasSuffix(n, "/dns-queries")
			})
			delete(g.Props, "KmsKeyId")
			return "log group " + g.ID + " has no KmsKeyId"
		}},
		{"key without rotation", checkKmsKeysRotateAndAreRetained, func(t *testing.T, ts Templates) string {
			k := find(t, ts, prod, "AWS::KMS::Key", nil)
			k.Props["EnableKeyRotation"] = false
			return k.String() + ": EnableKeyRotation"
		}},
		{"key deleted with the stack", checkKmsKeysRotateAndAreRetained, func(t *testing.T, ts Templates) string {
			k := find(t, ts, prod, "AWS::KMS::Key", nil)
			k.Body["DeletionPolicy"] = "Delete"
			return k.String() + ": DeletionPolicy is Delete"
		}},
		{"key policy grants kms:*", checkKmsKeyPoliciesNeverGrantEverythingNorMixAdministrationWithUse, func(t *testing.T, ts Templates) string {
			k := find(t, ts, prod, "AWS::KMS::Key", nil)
			doc := asMap(k.Props["KeyPolicy"])
			doc["Statement"] = append(asList(doc["Statement"]), map[string]any{"Sid": "Injected", "Effect": "Allow", "Action": "kms:*", "Principal": map[string]any{"AWS": "*"}, "Resource": "*"})
			return `statement "Injected" allows "kms:*"`
		}},
		{"key users may also administer", checkKmsKeyPoliciesNeverGrantEverythingNorMixAdministrationWithUse, func(t *testing.T, ts Templates) string {
			var users []string
			k := anyStack(t, ts, "AWS::KMS::Key", func(r Resource) bool {
				for _, st := range statements(r.Props["KeyPolicy"]) {
					if st.covers(dataActions...) && len(st.principalPatterns()) > 0 {
						users = st.principalPatterns()
						return true
					}
				}
				return false
			})
			doc := asMap(k.Props["KeyPolicy"])
			doc["Statement"] = append(asList(doc["Statement"]), map[string]any{
				"Sid": "InjectedAdmins", "Effect": "Allow", "Action": []any{"kms:PutKeyPolicy", "kms:ScheduleKeyDeletion"},
				"Principal": map[string]any{"AWS": "*"}, "Resource": "*",
				"Condition": map[string]any{"ArnLike": map[string]any{"aws:PrincipalArn": users[0]}}})
			return fmt.Sprintf("%s: principal %q administers the key (\"InjectedAdmins\")", k, users[0])
		}},
		{"role both administers and uses keys", checkIamRolesNeverBothAdministerAndUseKeys, func(t *testing.T, ts Templates) string {
			p := anyStack(t, ts, "AWS::IAM::Policy", func(r Resource) bool {
				for _, st := range statements(r.Props["PolicyDocument"]) {
					if st.effect == "Allow" && st.covers(dataActions...) {
						return true
					}
				}
				return false
			})
			doc := asMap(p.Props["PolicyDocument"])
			doc["Statement"] = append(asList(doc["Statement"]), map[string]any{"Sid": "InjectedAdmin", "Effect": "Allow", "Action": "kms:ScheduleKeyDeletion", "Resource": "*"})
			role, _ := ref(asList(p.Props["Roles"])[0])
			return p.Stack + "/" + role + ": IAM role both administers keys"
		}},
		{"bucket accepts public policies", checkBucketsBlockPublicAccessDenyPlainHttpAndAreRetained, func(t *testing.T, ts Templates) string {
			b := find(t, ts, prod, "AWS::S3::Bucket", isAsset)
			asMap(b.Props["PublicAccessBlockConfiguration"])["BlockPublicPolicy"] = false
			return b.String() + ": PublicAccessBlockConfiguration.BlockPublicPolicy"
		}},
		{"bucket deleted with the stack", checkBucketsBlockPublicAccessDenyPlainHttpAndAreRetained, func(t *testing.T, ts Templates) string {
			b := find(t, ts, prod, "AWS::S3::Bucket", isAsset)
			b.Body["DeletionPolicy"] = "Delete"
			return b.String() + ": DeletionPolicy is Delete"
		}},
		{"bucket accepts plain HTTP", checkBucketsBlockPublicAccessDenyPlainHttpAndAreRetained, func(t *testing.T, ts Templates) string {
			b := find(t, ts, prod, "AWS::S3::Bucket", isAsset)
			keepStatements(policyOf(ts, b).Props["PolicyDocument"], hasCondition("aws:SecureTransport"))
			return b.String() + ": its bucket policy has no Deny of s3:* when aws:SecureTransport is false"
		}},
		{"access log target encrypted with KMS", checkBucketsEncryptWithCustomerManagedKeysExceptAccessLogTargets, func(t *testing.T, ts Templates) string {
			b := find(t, ts, prod, "AWS::S3::Bucket", isLogTarget)
			sseDefaults(b)[0]["SSEAlgorithm"] = "aws:kms"
			return b.String() + ": receives the access logs"
		}},
		{"asset bucket with S3-managed keys", checkBucketsEncryptWithCustomerManagedKeysExceptAccessLogTargets, func(t *testing.T, ts Templates) string {
			b := find(t, ts, prod, "AWS::S3::Bucket", isAsset)
			d := sseDefaults(b)[0]
			d["SSEAlgorithm"] = "AES256"
			delete(d, "KMSMasterKeyID")
			return b.String() + ": SSEAlgorithm is AES256"
		}},
		{"asset bucket with the AWS-managed key", checkBucketsEncryptWithCustomerManagedKeysExceptAccessLogTargets, func(t *testing.T, ts Templates) string {
			b := find(t, ts, prod, "AWS::S3::Bucket", isAsset)
			sseDefaults(b)[0]["KMSMasterKeyID"] = "alias/aws/s3"
			return b.String() + ": KMSMasterKeyID alias/aws/s3 is not a customer-managed key"
		}},
		{"asset bucket takes writes with any key", checkAssetBucketsDenyWritesWithoutTheAssetKeyAndAccessOutsideTheVpc, func(t *testing.T, ts Templates) string {
			b := find(t, ts, prod, "AWS::S3::Bucket", isAsset)
			keepStatements(policyOf(ts, b).Props["PolicyDocument"], hasCondition("s3:x-amz-server-side-encryption-aws-kms-key-id"))
			return b.String() + ": no Deny of s3:PutObject"
		}},
		{"asset bucket open outside the VPC", checkAssetBucketsDenyWritesWithoutTheAssetKeyAndAccessOutsideTheVpc, func(t *testing.T, ts Templates) string {
			b := find(t, ts, prod, "AWS::S3::Bucket", isAsset)
			keepStatements(policyOf(ts, b).Props["PolicyDocument"], hasCondition("aws:SourceVpce"))
			return b.String() + ": no Deny of object reads"
		}},
		{"SSH from the internet", checkNoSecurityGroupAdmitsTheInternetOrSshOrRdp, func(t *testing.T, ts Templates) string {
			sg := find(t, ts, prod, "AWS::EC2::SecurityGroup", nil)
			addResource(ts, prod, "InjectedSsh", map[string]any{"Type": "AWS::EC2::SecurityGroupIngress", "Properties": map[string]any{
				"GroupId": map[string]any{"Fn::GetAtt": []any{sg.ID, "GroupId"}}, "CidrIp": "0.0.0.0/0", "IpProtocol": "tcp", "FromPort": 22.0, "ToPort": 22.0}})
			return prod + "/InjectedSsh (AWS::EC2::SecurityGroupIngress): ingress from anywhere"
		}},
		{"all traffic from a private range", checkNoSecurityGroupAdmitsTheInternetOrSshOrRdp, func(t *testing.T, ts Templates) string {
			sg := find(t, ts, prod, "AWS::EC2::SecurityGroup", nil)
			sg.Props["SecurityGroupIngress"] = append(asList(sg.Props["SecurityGroupIngress"]), map[string]any{"CidrIp": "10.0.0.0/8", "IpProtocol": "-1"})
			return sg.String() + " SecurityGroupIngress[" + fmt.Sprint(len(asList(sg.Props["SecurityGroupIngress"]))-1) + "]: admits port 3389"
		}},
		{"IMDSv1", checkLaunchTemplatesRequireImdsv2NoPublicIpAndEncryptedVolumes, func(t *testing.T, ts Templates) string {
			lt := find(t, ts, prod, "AWS::EC2::LaunchTemplate", nil)
			asMap(asMap(lt.Props["LaunchTemplateData"])["MetadataOptions"])["HttpTokens"] = "optional"
			return lt.String() + ": MetadataOptions.HttpTokens is optional"
		}},
		{"public IP on render nodes", checkLaunchTemplatesRequireImdsv2NoPublicIpAndEncryptedVolumes, func(t *testing.T, ts Templates) string {
			lt := find(t, ts, prod, "AWS::EC2::LaunchTemplate", nil)
			data := asMap(lt.Props["LaunchTemplateData"])
			data["NetworkInterfaces"] = []any{map[string]any{"DeviceIndex": 0.0, "AssociatePublicIpAddress": true}}
			return lt.String() + ": NetworkInterfaces[0] associates a public IP"
		}},
		{"unencrypted root volume", checkLaunchTemplatesRequireImdsv2NoPublicIpAndEncryptedVolumes, func(t *testing.T, ts Templates) string {
			lt := find(t, ts, prod, "AWS::EC2::LaunchTemplate", nil)
			firstVolume(lt)["Encrypted"] = false
			return lt.String() + ": BlockDeviceMappings[0]"
		}},
		{"root volume with the AWS-managed key", checkLaunchTemplatesRequireImdsv2NoPublicIpAndEncryptedVolumes, func(t *testing.T, ts Templates) string {
			lt := find(t, ts, prod, "AWS::EC2::LaunchTemplate", nil)
			firstVolume(lt)["KmsKeyId"] = "alias/aws/ebs"
			return "KmsKeyId alias/aws/ebs is not a customer-managed key"
		}},
		{"single-region trail", checkCloudTrailIsMultiRegionValidatedAndEncrypted, func(t *testing.T, ts Templates) string {
			tr := anyStack(t, ts, "AWS::CloudTrail::Trail", nil)
			tr.Props["IsMultiRegionTrail"] = false
			return tr.String() + ": IsMultiRegionTrail is false"
		}},
		{"untagged bucket", checkTaggableResourcesCarryTheStudioTags, func(t *testing.T, ts Templates) string {
			b := find(t, ts, prod, "AWS::S3::Bucket", isAsset)
			delete(b.Props, "Tags")
			return b.Stack + "/" + b.ID + ": no Studio, no Production"
		}},
		{"unknown resource group", checkTaggableResourcesCarryTheStudioTags, func(t *testing.T, ts Templates) string {
			b := find(t, ts, prod, "AWS::S3::Bucket", isAsset)
			b.Props["Tags"] = []any{
				map[string]any{"Key": "Studio", "Value": s.studio()}, map[string]any{"Key": "Production", "Value": strings.TrimPrefix(prod, s.studio()+"-")},
				map[string]any{"Key": "Tier", "Value": "1"}, map[string]any{"Key": "CostCentre", "Value": "x"}, map[string]any{"Key": "Owner", "Value": "x@example.com"}, map[string]any{"Key": "ResourceGroup", "Value": "misc"}}
			return b.Stack + "/" + b.ID + `: ResourceGroup "misc" is not one of`
		}},
		{"stack over the resource limit", checkTemplatesStayWithinCloudFormationLimits, func(t *testing.T, ts Templates) string {
			for i := 0; i < maxResources; i++ {
				addResource(ts, prod, fmt.Sprintf("Injected%d", i), map[string]any{"Type": "AWS::CloudFormation::WaitConditionHandle"})
			}
			return fmt.Sprintf("%s: %d resources", prod, len(asMap(ts[prod]["Resources"])))
		}},
		{"production without launch templates", checkEveryProductionHasLaunchTemplates, func(t *testing.T, ts Templates) string {
			for _, lt := range ts.In(prod, "AWS::EC2::LaunchTemplate") {
				delete(asMap(ts[prod]["Resources"]), lt.ID)
			}
			return prod + ": production stack without a render launch template"
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			broken := *s
			broken.Templates = clone(s.Templates)
			want := tc.inject(t, broken.Templates)
			quiet := func(string, ...any) {}
			before := strings.Join(tc.check(s, quiet), "\n")
			if strings.Contains(before, want) {
				t.Fatalf("the unbroken estate already reports %q; the case proves nothing:\n%s", want, before)
			}
			after := strings.Join(tc.check(&broken, quiet), "\n")
			if !strings.Contains(after, want) {
				t.Errorf("after breaking the rule, want a finding containing %q; got:\n%s", want, after)
			}
		})
	}
}
