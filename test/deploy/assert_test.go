package deploy

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/renderenv/renderenv/internal/bootstrap"
	"github.com/renderenv/renderenv/internal/cfn"
	"github.com/renderenv/renderenv/internal/manifest"
	"github.com/renderenv/renderenv/internal/names"
)

// motoSkips are the resource types that moto's CloudFormation does not
// create: the test cannot show them. checkStack fails when moto creates one
// of them (assert it, and take it off the list) or skips another type.
var motoSkips = map[string]bool{
	"AWS::CDK::Metadata":     true,
	"AWS::CloudTrail::Trail": true,
	"AWS::CloudWatch::Alarm": true,
	// moto 5.2 has a DataSync API but no CloudFormation for it.
	"AWS::DataSync::LocationNFS":                    true,
	"AWS::DataSync::LocationS3":                     true,
	"AWS::DataSync::Task":                           true,
	"AWS::EC2::NetworkAcl":                          true,
	"AWS::EC2::NetworkAclEntry":                     true,
	"AWS::EC2::SecurityGroupEgress":                 true,
	"AWS::EC2::SubnetNetworkAclAssociation":         true,
	"AWS::EC2::TransitGatewayAttachment":            true,
	"AWS::EC2::TransitGatewayRouteTableAssociation": true,
	"AWS::EC2::TransitGatewayRouteTablePropagation": true,
	"AWS::Logs::MetricFilter":                       true,
	"AWS::RAM::ResourceShare":                       true,
	// moto 5.2 implements none of the DNS Firewall API, and CloudFormation
	// for no Route 53 Resolver type (only the query logging API).
	"AWS::Route53Resolver::FirewallDomainList":                    true,
	"AWS::Route53Resolver::FirewallRuleGroup":                     true,
	"AWS::Route53Resolver::FirewallRuleGroupAssociation":          true,
	"AWS::Route53Resolver::ResolverQueryLoggingConfig":            true,
	"AWS::Route53Resolver::ResolverQueryLoggingConfigAssociation": true,
	"AWS::S3::BucketPolicy":                                       true,
	"AWS::SNS::Subscription":                                      true,
	"AWS::SNS::TopicPolicy":                                       true,
}

// The cloud assembly, as internal/cfn reads it.

// stack is one stack of the assembly: its template, account, region, tags
// and termination protection.
type stack struct {
	*cfn.Stack
	Studio string // the studio the stack belongs to
}

func readAssembly(dir, studio string, names []string) ([]*stack, error) {
	a, err := cfn.ReadAssembly(dir)
	if err != nil {
		return nil, err
	}
	var stacks []*stack
	for _, name := range names {
		st := a.Stack(name)
		if st == nil {
			return nil, fmt.Errorf("the assembly has no stack %s", name)
		}
		if st.Account == "" || st.Region == "" {
			return nil, fmt.Errorf("%s: no concrete account and region", name)
		}
		stacks = append(stacks, &stack{Stack: st, Studio: studio})
	}
	return stacks, nil
}

// What testdata/inventory.py reads back: the AWS API's own field names.

type inventory map[string]*account

type tag struct{ Key, Value string }

type permission struct {
	IpProtocol       string
	FromPort, ToPort *int
	IpRanges         []struct{ CidrIp string }
	Ipv6Ranges       []struct{ CidrIpv6 string }
}

type account struct {
	Stacks map[string]struct {
		Status                string
		TerminationProtection bool
		Resources             map[string]string // logical id to physical id
	}
	Vpcs                      []vpc
	Subnets                   []subnet
	RouteTables               []routeTable
	SecurityGroups            []securityGroup
	VpcEndpoints              []vpcEndpoint
	FlowLogs                  []flowLog
	InternetGateways          []internetGateway
	NatGateways               []natGateway
	TransitGateways           []transitGateway
	TransitGatewayRouteTables []tgwRouteTable
	LaunchTemplates           []launchTemplate
	Keys                      []key
	Aliases                   []alias
	Buckets                   []bucket
	LogGroups                 []logGroup
	Roles                     []role
	LocalPolicies             []string // customer-managed policies' ARNs
	Parameters                map[string]string
}

type (
	vpc struct {
		VpcId, CidrBlock string
		Tags             []tag
	}
	subnet struct {
		SubnetId, VpcId, CidrBlock, AvailabilityZone string
		MapPublicIpOnLaunch                          bool
	}
	routeTable struct {
		RouteTableId, VpcId string
		Routes              []struct {
			DestinationCidrBlock, DestinationIpv6CidrBlock, DestinationPrefixListId string
			GatewayId, NatGatewayId, TransitGatewayId                               string
		}
	}
	securityGroup struct {
		GroupId, GroupName, Description, VpcId string
		IpPermissions, IpPermissionsEgress     []permission
	}
	vpcEndpoint struct {
		VpcEndpointId, VpcId, ServiceName, VpcEndpointType string
		PrivateDnsEnabled                                  bool
	}
	flowLog struct {
		FlowLogId, ResourceId, TrafficType, LogGroupName string
		LogDestinationType, LogDestination               string
	}
	internetGateway struct {
		InternetGatewayId string
		Attachments       []struct{ VpcId string }
	}
	natGateway     struct{ NatGatewayId, VpcId string }
	transitGateway struct {
		TransitGatewayId string
		Options          struct {
			AmazonSideAsn                                              int64
			DefaultRouteTableAssociation, DefaultRouteTablePropagation string
		}
	}
	tgwRouteTable  struct{ TransitGatewayRouteTableId, TransitGatewayId string }
	launchTemplate struct {
		LaunchTemplateId, LaunchTemplateName string
		LaunchTemplateData                   struct {
			ImageId         string
			MetadataOptions struct {
				HttpTokens              string
				HttpPutResponseHopLimit int
			}
			BlockDeviceMappings []struct {
				DeviceName string
				Ebs        struct {
					Encrypted bool
					KmsKeyId  string
				}
			}
			NetworkInterfaces []struct{ AssociatePublicIpAddress *bool }
		}
	}
	key struct {
		KeyId, Arn, Description, KeyState string
		KeyRotationEnabled                bool
	}
	alias  struct{ AliasName, TargetKeyId string }
	bucket struct {
		Name       string
		Encryption struct {
			Rules []struct {
				ApplyServerSideEncryptionByDefault struct{ SSEAlgorithm, KMSMasterKeyID string }
			}
		}
		Tags json.RawMessage // a list of tags, or an error
	}
	logGroup struct {
		Name            string `json:"logGroupName"`
		KmsKeyId        string `json:"kmsKeyId"`
		RetentionInDays int    `json:"retentionInDays"`
	}
	role struct {
		RoleName                 string
		AssumeRolePolicyDocument json.RawMessage
		MaxSessionDuration       int
		PermissionsBoundary      struct{ PermissionsBoundaryArn string }
		AttachedPolicies         []string
	}
)

// resolver turns a template's values into what they became in moto.
type resolver struct {
	s      *stack
	phys   map[string]string
	params map[string]string // the account's SSM parameters
}

// resolve returns v's deployed value; false when it cannot be known here
// (a deploy-time parameter, an attribute the test does not model).
func (r resolver) resolve(v any) (string, bool) {
	switch x := v.(type) {
	case string:
		return x, true
	case map[string]any:
		if ref, ok := x["Ref"].(string); ok {
			switch ref {
			case "AWS::Region":
				return r.s.Region, true
			case "AWS::AccountId":
				return r.s.Account, true
			case "AWS::Partition":
				return "aws", true
			case "AWS::URLSuffix":
				return "amazonaws.com", true
			case "AWS::StackName":
				return r.s.Name, true
			}
			if p, ok := r.s.Parameters[ref]; ok {
				// CloudFormation resolves these from SSM at deploy time.
				name, _ := p.Default.(string)
				v, ok := r.params[name]
				return v, ok && strings.HasPrefix(p.Type, "AWS::SSM::Parameter::Value<")
			}
			p, ok := r.phys[ref]
			return p, ok && p != ""
		}
		if att, ok := x["Fn::GetAtt"].([]any); ok && len(att) == 2 {
			logical, _ := att[0].(string)
			attr, _ := att[1].(string)
			p, res := r.phys[logical], r.s.Resource(logical)
			if p == "" || res == nil {
				return "", false
			}
			switch res.Type + "." + attr {
			case "AWS::KMS::Key.Arn":
				return fmt.Sprintf("arn:aws:kms:%s:%s:key/%s", r.s.Region, r.s.Account, p), true
			case "AWS::KMS::Key.KeyId", "AWS::EC2::SecurityGroup.GroupId", "AWS::EC2::VPC.VpcId", "AWS::EC2::Subnet.SubnetId":
				return p, true
			case "AWS::IAM::Role.Arn":
				return fmt.Sprintf("arn:aws:iam::%s:role/%s", r.s.Account, p), true
			case "AWS::Logs::LogGroup.Arn":
				return fmt.Sprintf("arn:aws:logs:%s:%s:log-group:%s:*", r.s.Region, r.s.Account, p), true
			case "AWS::S3::Bucket.Arn":
				return "arn:aws:s3:::" + p, true
			}
			return "", false
		}
		if join, ok := x["Fn::Join"].([]any); ok && len(join) == 2 {
			sep, _ := join[0].(string)
			parts, _ := join[1].([]any)
			var out []string
			for _, p := range parts {
				s, ok := r.resolve(p)
				if !ok {
					return "", false
				}
				out = append(out, s)
			}
			return strings.Join(out, sep), true
		}
	}
	return "", false
}

func str(m map[string]any, key string) string {
	s, _ := m[key].(string)
	return s
}

func num(m map[string]any, key string, otherwise int) int {
	if f, ok := m[key].(float64); ok {
		return int(f)
	}
	return otherwise
}

func templateTags(props map[string]any) []tag {
	var tags []tag
	list, _ := props["Tags"].([]any)
	for _, t := range list {
		if m, ok := t.(map[string]any); ok {
			tags = append(tags, tag{str(m, "Key"), str(m, "Value")})
		}
	}
	return tags
}

// missingTags returns the tags of want that got lacks. Moto applies a
// stack's own tags over the tags of its EC2 resources (CloudFormation keeps
// the resource's), so where the stack sets a key too, its value is accepted.
func missingTags(want, got []tag, stackTags map[string]string) []tag {
	var missing []tag
	for _, w := range want {
		if !slices.Contains(got, w) && !slices.Contains(got, tag{w.Key, stackTags[w.Key]}) {
			missing = append(missing, w)
		}
	}
	return missing
}

func sum(m map[string]int) (n int) {
	for _, v := range m {
		n += v
	}
	return n
}

// keyID is the key id at the end of a key ARN (or the id itself).
func keyID(arnOrID string) string {
	return arnOrID[strings.LastIndex(arnOrID, "/")+1:]
}

// checkStack compares one deployed stack with its template, then checks what
// must hold whatever the template says.
func checkStack(t *testing.T, s *stack, a *account) {
	if a == nil {
		t.Fatalf("nothing read back from account %s", s.Account)
	}
	st, ok := a.Stacks[s.Name]
	if !ok {
		t.Fatalf("account %s has no stack %s", s.Account, s.Name)
	}
	if st.Status != "CREATE_COMPLETE" {
		t.Errorf("status %s, want CREATE_COMPLETE", st.Status)
	}
	if !s.TerminationProtection || !st.TerminationProtection {
		t.Errorf("termination protection: template %v, deployed %v; want both on", s.TerminationProtection, st.TerminationProtection)
	}
	r := resolver{s, st.Resources, a.Parameters}

	compared, created, skipped := 0, map[string]int{}, map[string]int{}
	defer func() {
		t.Logf("%d resources read back and compared with the template; %d more only seen to exist: %v; "+
			"moto's CloudFormation skipped %d: %v", compared, len(s.Resources)-compared-sum(skipped), created,
			sum(skipped), skipped)
	}()
	for logical, res := range s.Resources {
		p := st.Resources[logical]
		switch {
		case motoSkips[res.Type] && p != "":
			t.Errorf("moto now creates %s (%s): assert it, and take the type off motoSkips", logical, res.Type)
			continue
		case motoSkips[res.Type]:
			skipped[strings.TrimPrefix(res.Type, "AWS::")]++
			continue
		case p == "":
			t.Errorf("%s (%s) was not created", logical, res.Type)
			continue
		}
		props := res.Properties
		where := fmt.Sprintf("%s (%s %s)", logical, res.Type, p)
		resolved := func(key string) string {
			v, ok := r.resolve(props[key])
			if !ok {
				t.Errorf("%s: cannot resolve %s %v", where, key, props[key])
			}
			return v
		}

		switch res.Type {
		case "AWS::EC2::VPC":
			i := slices.IndexFunc(a.Vpcs, func(x vpc) bool { return x.VpcId == p })
			if i < 0 {
				t.Errorf("%s: no such VPC", where)
				continue
			}
			v := a.Vpcs[i]
			if v.CidrBlock != str(props, "CidrBlock") {
				t.Errorf("%s: CIDR %s, want %s", where, v.CidrBlock, str(props, "CidrBlock"))
			}
			if m := missingTags(templateTags(props), v.Tags, s.Tags); len(m) > 0 {
				t.Errorf("%s: lacks tags %v", where, m)
			}

		case "AWS::EC2::Subnet":
			i := slices.IndexFunc(a.Subnets, func(x subnet) bool { return x.SubnetId == p })
			if i < 0 {
				t.Errorf("%s: no such subnet", where)
				continue
			}
			sn := a.Subnets[i]
			wantPublic, _ := props["MapPublicIpOnLaunch"].(bool)
			if sn.CidrBlock != str(props, "CidrBlock") || sn.VpcId != resolved("VpcId") ||
				sn.AvailabilityZone != str(props, "AvailabilityZone") || sn.MapPublicIpOnLaunch != wantPublic {
				t.Errorf("%s: %s in %s, %s, public IPs %v; want %s in %s, %s, %v", where,
					sn.CidrBlock, sn.VpcId, sn.AvailabilityZone, sn.MapPublicIpOnLaunch,
					str(props, "CidrBlock"), resolved("VpcId"), str(props, "AvailabilityZone"), wantPublic)
			}

		case "AWS::EC2::RouteTable":
			if i := slices.IndexFunc(a.RouteTables, func(x routeTable) bool { return x.RouteTableId == p }); i < 0 {
				t.Errorf("%s: no such route table", where)
			} else if a.RouteTables[i].VpcId != resolved("VpcId") {
				t.Errorf("%s: in %s, want %s", where, a.RouteTables[i].VpcId, resolved("VpcId"))
			}

		case "AWS::EC2::Route":
			checkRoute(t, where, r, props, a)

		case "AWS::EC2::SecurityGroup":
			i := slices.IndexFunc(a.SecurityGroups, func(x securityGroup) bool { return x.GroupId == p })
			if i < 0 {
				t.Errorf("%s: no such security group", where)
				continue
			}
			g := a.SecurityGroups[i]
			if g.VpcId != resolved("VpcId") || g.Description != str(props, "GroupDescription") {
				t.Errorf("%s: %q in %s, want %q in %s", where, g.Description, g.VpcId, str(props, "GroupDescription"), resolved("VpcId"))
			}
			ingress, _ := props["SecurityGroupIngress"].([]any)
			for _, in := range ingress {
				rule, _ := in.(map[string]any)
				if cidr := str(rule, "CidrIp"); cidr != "" && !hasRule(g.IpPermissions, str(rule, "IpProtocol"), num(rule, "FromPort", -1), num(rule, "ToPort", -1), cidr) {
					t.Errorf("%s: lacks ingress %v", where, rule)
				}
			}

		case "AWS::EC2::VPCEndpoint":
			i := slices.IndexFunc(a.VpcEndpoints, func(x vpcEndpoint) bool { return x.VpcEndpointId == p })
			if i < 0 {
				t.Errorf("%s: no such endpoint", where)
				continue
			}
			e := a.VpcEndpoints[i]
			wantType := str(props, "VpcEndpointType")
			if wantType == "" {
				wantType = "Gateway"
			}
			wantDNS, _ := props["PrivateDnsEnabled"].(bool)
			if e.VpcId != resolved("VpcId") || e.ServiceName != resolved("ServiceName") || e.VpcEndpointType != wantType ||
				(wantType == "Interface" && e.PrivateDnsEnabled != wantDNS) {
				t.Errorf("%s: %s %s in %s (private DNS %v), want %s %s in %s (%v)", where,
					e.VpcEndpointType, e.ServiceName, e.VpcId, e.PrivateDnsEnabled, wantType, resolved("ServiceName"), resolved("VpcId"), wantDNS)
			}

		case "AWS::EC2::FlowLog":
			i := slices.IndexFunc(a.FlowLogs, func(x flowLog) bool { return x.FlowLogId == p })
			if i < 0 {
				t.Errorf("%s: no such flow log", where)
				continue
			}
			f := a.FlowLogs[i]
			if str(props, "LogDestinationType") == "s3" {
				// The copy in the log-archive account's bucket.
				if f.ResourceId != resolved("ResourceId") || f.TrafficType != str(props, "TrafficType") || f.LogDestination != str(props, "LogDestination") {
					t.Errorf("%s: %s of %s to %s, want %s of %s to %s", where, f.TrafficType, f.ResourceId, f.LogDestination,
						str(props, "TrafficType"), resolved("ResourceId"), str(props, "LogDestination"))
				}
				continue
			}
			if f.ResourceId != resolved("ResourceId") || f.TrafficType != str(props, "TrafficType") || f.LogGroupName != resolved("LogGroupName") {
				t.Errorf("%s: %s of %s to %s, want %s of %s to %s", where, f.TrafficType, f.ResourceId, f.LogGroupName,
					str(props, "TrafficType"), resolved("ResourceId"), resolved("LogGroupName"))
			}

		case "AWS::KMS::Key":
			i := slices.IndexFunc(a.Keys, func(x key) bool { return x.KeyId == p })
			if i < 0 {
				t.Errorf("%s: no such key", where)
				continue
			}
			k := a.Keys[i]
			if k.KeyState != "Enabled" || !k.KeyRotationEnabled || k.Description != str(props, "Description") {
				t.Errorf("%s: %s, rotation %v, %q; want Enabled, rotation on (ISE 9.1), %q", where, k.KeyState, k.KeyRotationEnabled, k.Description, str(props, "Description"))
			}

		case "AWS::KMS::Alias":
			name := resolved("AliasName")
			i := slices.IndexFunc(a.Aliases, func(x alias) bool { return x.AliasName == name })
			if i < 0 {
				t.Errorf("%s: no alias %s", where, name)
			} else if target := resolved("TargetKeyId"); keyID(a.Aliases[i].TargetKeyId) != keyID(target) {
				t.Errorf("%s: %s names key %s, want %s", where, name, a.Aliases[i].TargetKeyId, target)
			}

		case "AWS::S3::Bucket":
			checkBucket(t, where, r, p, props, a)

		case "AWS::Logs::LogGroup":
			i := slices.IndexFunc(a.LogGroups, func(x logGroup) bool { return x.Name == p })
			if i < 0 {
				t.Errorf("%s: no such log group", where)
				continue
			}
			lg := a.LogGroups[i]
			if lg.RetentionInDays != num(props, "RetentionInDays", 0) || lg.KmsKeyId != resolved("KmsKeyId") {
				t.Errorf("%s: kept %d days, key %q; want %d days, key %q", where, lg.RetentionInDays, lg.KmsKeyId,
					num(props, "RetentionInDays", 0), resolved("KmsKeyId"))
			}

		case "AWS::IAM::Role":
			i := slices.IndexFunc(a.Roles, func(x role) bool { return x.RoleName == p })
			if i < 0 {
				t.Errorf("%s: no such role", where)
			} else if want := num(props, "MaxSessionDuration", 3600); a.Roles[i].MaxSessionDuration != want {
				t.Errorf("%s: sessions of %ds, want %ds", where, a.Roles[i].MaxSessionDuration, want)
			}

		case "AWS::EC2::LaunchTemplate":
			checkLaunchTemplate(t, where, r, p, props, a)

		case "AWS::SSM::Parameter":
			name := resolved("Name")
			got, ok := a.Parameters[name]
			if want, known := r.resolve(props["Value"]); !ok || got == "" || (known && got != want) {
				t.Errorf("%s: %s is %q, want %q", where, name, got, want)
			}

		case "AWS::EC2::TransitGateway":
			i := slices.IndexFunc(a.TransitGateways, func(x transitGateway) bool { return x.TransitGatewayId == p })
			if i < 0 {
				t.Errorf("%s: no such Transit Gateway", where)
				continue
			}
			o := a.TransitGateways[i].Options
			if o.AmazonSideAsn != int64(num(props, "AmazonSideAsn", 64512)) ||
				o.DefaultRouteTableAssociation != str(props, "DefaultRouteTableAssociation") ||
				o.DefaultRouteTablePropagation != str(props, "DefaultRouteTablePropagation") {
				t.Errorf("%s: %+v, want ASN %v, default association %s, propagation %s (ISE 2.2)", where, o,
					props["AmazonSideAsn"], str(props, "DefaultRouteTableAssociation"), str(props, "DefaultRouteTablePropagation"))
			}

		case "AWS::EC2::TransitGatewayRouteTable":
			i := slices.IndexFunc(a.TransitGatewayRouteTables, func(x tgwRouteTable) bool { return x.TransitGatewayRouteTableId == p })
			if i < 0 || a.TransitGatewayRouteTables[i].TransitGatewayId != resolved("TransitGatewayId") {
				t.Errorf("%s: no such route table of %s", where, resolved("TransitGatewayId"))
			}

		default:
			created[strings.TrimPrefix(res.Type, "AWS::")]++
			continue
		}
		compared++
	}

	checkInvariants(t, s, r, a)
}

func hasRule(perms []permission, proto string, from, to int, cidr string) bool {
	for _, p := range perms {
		if p.IpProtocol != proto || (p.FromPort != nil && *p.FromPort != from) || (p.ToPort != nil && *p.ToPort != to) {
			continue
		}
		for _, rg := range p.IpRanges {
			if rg.CidrIp == cidr {
				return true
			}
		}
	}
	return false
}

func checkRoute(t *testing.T, where string, r resolver, props map[string]any, a *account) {
	t.Helper()
	tableID, _ := r.resolve(props["RouteTableId"])
	i := slices.IndexFunc(a.RouteTables, func(x routeTable) bool { return x.RouteTableId == tableID })
	if i < 0 {
		t.Errorf("%s: no route table %s", where, tableID)
		return
	}
	dest, _ := r.resolve(props["DestinationCidrBlock"])
	prefixList, _ := r.resolve(props["DestinationPrefixListId"])
	for _, rt := range a.RouteTables[i].Routes {
		if (dest == "" || rt.DestinationCidrBlock != dest) && (prefixList == "" || rt.DestinationPrefixListId != prefixList) {
			continue
		}
		// Moto keeps a Transit Gateway target only when the gateway is in
		// the route's own account (it has no AWS RAM).
		if tgw, ok := r.resolve(props["TransitGatewayId"]); ok && rt.TransitGatewayId != tgw &&
			slices.IndexFunc(a.TransitGateways, func(x transitGateway) bool { return x.TransitGatewayId == tgw }) >= 0 {
			t.Errorf("%s: %s goes to %q, want %s", where, dest, rt.TransitGatewayId, tgw)
		}
		for _, target := range []struct{ key, got string }{{"GatewayId", rt.GatewayId}, {"NatGatewayId", rt.NatGatewayId}} {
			if want, ok := r.resolve(props[target.key]); ok && target.got != want {
				t.Errorf("%s: %s goes to %s %q, want %q", where, dest, target.key, target.got, want)
			}
		}
		return
	}
	t.Errorf("%s: table %s has no route to %s%s", where, tableID, dest, prefixList)
}

func checkBucket(t *testing.T, where string, r resolver, name string, props map[string]any, a *account) {
	t.Helper()
	i := slices.IndexFunc(a.Buckets, func(x bucket) bool { return x.Name == name })
	if i < 0 {
		t.Errorf("%s: no such bucket", where)
		return
	}
	b := a.Buckets[i]
	enc, _ := props["BucketEncryption"].(map[string]any)
	rules, _ := enc["ServerSideEncryptionConfiguration"].([]any)
	if len(rules) != 1 || len(b.Encryption.Rules) != 1 {
		t.Errorf("%s: %d encryption rules deployed, %d in the template; want one", where, len(b.Encryption.Rules), len(rules))
		return
	}
	want, _ := rules[0].(map[string]any)["ServerSideEncryptionByDefault"].(map[string]any)
	got := b.Encryption.Rules[0].ApplyServerSideEncryptionByDefault
	wantKey, _ := r.resolve(want["KMSMasterKeyID"])
	if got.SSEAlgorithm != str(want, "SSEAlgorithm") || got.KMSMasterKeyID != wantKey {
		t.Errorf("%s: encrypted %s with %q, want %s with %q", where, got.SSEAlgorithm, got.KMSMasterKeyID, str(want, "SSEAlgorithm"), wantKey)
	}
	var tags []tag
	json.Unmarshal(b.Tags, &tags)
	if m := missingTags(templateTags(props), tags, r.s.Tags); len(m) > 0 {
		t.Errorf("%s: lacks tags %v", where, m)
	}
}

func checkLaunchTemplate(t *testing.T, where string, r resolver, id string, props map[string]any, a *account) {
	t.Helper()
	i := slices.IndexFunc(a.LaunchTemplates, func(x launchTemplate) bool { return x.LaunchTemplateId == id })
	if i < 0 {
		t.Errorf("%s: no such launch template", where)
		return
	}
	lt := a.LaunchTemplates[i]
	if lt.LaunchTemplateName != str(props, "LaunchTemplateName") {
		t.Errorf("%s: named %q, want %q", where, lt.LaunchTemplateName, str(props, "LaunchTemplateName"))
	}
	d := lt.LaunchTemplateData
	if !strings.HasPrefix(d.ImageId, "ami-") {
		t.Errorf("%s: image %q, want the AMI resolved at deploy time", where, d.ImageId)
	}
	// ISE 4.2: IMDSv2 only, not reachable from containers on the node.
	if d.MetadataOptions.HttpTokens != "required" || d.MetadataOptions.HttpPutResponseHopLimit != 1 {
		t.Errorf("%s: metadata %+v, want IMDSv2 required with hop limit 1", where, d.MetadataOptions)
	}
	data, _ := props["LaunchTemplateData"].(map[string]any)
	mappings, _ := data["BlockDeviceMappings"].([]any)
	if len(d.BlockDeviceMappings) == 0 || len(d.BlockDeviceMappings) != len(mappings) {
		t.Errorf("%s: %d volumes, the template has %d", where, len(d.BlockDeviceMappings), len(mappings))
	}
	for j, bdm := range d.BlockDeviceMappings {
		var wantKey string
		if j < len(mappings) {
			ebs, _ := mappings[j].(map[string]any)["Ebs"].(map[string]any)
			wantKey, _ = r.resolve(ebs["KmsKeyId"])
		}
		// Every EBS volume is encrypted with a customer-managed key (ISE 9.1).
		if !bdm.Ebs.Encrypted || bdm.Ebs.KmsKeyId == "" || bdm.Ebs.KmsKeyId != wantKey {
			t.Errorf("%s: %s encrypted %v with %q, want encrypted with %q", where, bdm.DeviceName, bdm.Ebs.Encrypted, bdm.Ebs.KmsKeyId, wantKey)
		}
		if slices.IndexFunc(a.Keys, func(k key) bool { return k.Arn == bdm.Ebs.KmsKeyId }) < 0 {
			t.Errorf("%s: %s's key %s is not a key of account %s", where, bdm.DeviceName, bdm.Ebs.KmsKeyId, r.s.Account)
		}
	}
	for _, ni := range d.NetworkInterfaces {
		if ni.AssociatePublicIpAddress == nil || *ni.AssociatePublicIpAddress {
			t.Errorf("%s: a network interface may get a public IP", where)
		}
	}
}

// checkInvariants checks what must hold of the deployed stack whatever its
// template says (DESIGN.md's security invariants, as far as moto shows them).
func checkInvariants(t *testing.T, s *stack, r resolver, a *account) {
	production := ""
	if name := strings.TrimPrefix(s.Name, s.Studio+"-"); name != "logging" && name != "network" {
		production = name // a production, or a pool
	}
	ofStack := func(typ string) []string {
		var ids []string
		for logical, res := range s.Resources {
			if res.Type == typ && r.phys[logical] != "" {
				ids = append(ids, r.phys[logical])
			}
		}
		slices.Sort(ids)
		return ids
	}

	for _, vpc := range ofStack("AWS::EC2::VPC") {
		// ISE 8.1: every VPC logs all its traffic to an encrypted group.
		logged := false
		for _, f := range a.FlowLogs {
			if f.ResourceId == vpc && f.TrafficType == "ALL" && f.LogGroupName != "" {
				i := slices.IndexFunc(a.LogGroups, func(x logGroup) bool { return x.Name == f.LogGroupName })
				logged = logged || (i >= 0 && a.LogGroups[i].KmsKeyId != "")
			}
		}
		if !logged {
			t.Errorf("VPC %s has no flow log of all traffic to a KMS-encrypted log group", vpc)
		}
		// ISE 2.5: the default security group keeps no rules. The CDK's
		// Custom::VpcRestrictDefaultSG handler removed them, in moto.
		for _, g := range a.SecurityGroups {
			if g.VpcId == vpc && g.GroupName == "default" && len(g.IpPermissions)+len(g.IpPermissionsEgress) > 0 {
				t.Errorf("VPC %s: the default security group %s keeps rules %+v %+v", vpc, g.GroupId, g.IpPermissions, g.IpPermissionsEgress)
			}
		}
		if production == "" {
			continue
		}
		// No way to or from the internet in a production VPC (ISE 2.2).
		for _, rt := range a.RouteTables {
			for _, route := range rt.Routes {
				if rt.VpcId == vpc && (route.DestinationCidrBlock == "0.0.0.0/0" || route.DestinationIpv6CidrBlock == "::/0") {
					t.Errorf("VPC %s: route table %s routes %s%s to %s%s%s", vpc, rt.RouteTableId,
						route.DestinationCidrBlock, route.DestinationIpv6CidrBlock, route.GatewayId, route.NatGatewayId, route.TransitGatewayId)
				}
			}
		}
		for _, igw := range a.InternetGateways {
			for _, at := range igw.Attachments {
				if at.VpcId == vpc {
					t.Errorf("VPC %s has internet gateway %s", vpc, igw.InternetGatewayId)
				}
			}
		}
		for _, nat := range a.NatGateways {
			if nat.VpcId == vpc {
				t.Errorf("VPC %s has NAT gateway %s", vpc, nat.NatGatewayId)
			}
		}
		for _, sn := range a.Subnets {
			if sn.VpcId == vpc && sn.MapPublicIpOnLaunch {
				t.Errorf("VPC %s: subnet %s gives public IPs", vpc, sn.SubnetId)
			}
		}
	}

	// No ingress from anywhere, and no SSH or RDP at all (ISE 4.1).
	for _, id := range ofStack("AWS::EC2::SecurityGroup") {
		i := slices.IndexFunc(a.SecurityGroups, func(x securityGroup) bool { return x.GroupId == id })
		if i < 0 {
			continue
		}
		for _, p := range a.SecurityGroups[i].IpPermissions {
			for _, rg := range p.IpRanges {
				if rg.CidrIp == "0.0.0.0/0" {
					t.Errorf("security group %s admits %s from anywhere", id, p.IpProtocol)
				}
			}
			for _, rg := range p.Ipv6Ranges {
				if rg.CidrIpv6 == "::/0" {
					t.Errorf("security group %s admits %s from anywhere", id, p.IpProtocol)
				}
			}
			for _, port := range []int{22, 3389} {
				if p.IpProtocol == "-1" || (p.FromPort != nil && p.ToPort != nil && *p.FromPort <= port && port <= *p.ToPort) {
					t.Errorf("security group %s admits port %d", id, port)
				}
			}
		}
	}

	// Log groups are encrypted and kept a year (ISE 8.1).
	for _, name := range ofStack("AWS::Logs::LogGroup") {
		i := slices.IndexFunc(a.LogGroups, func(x logGroup) bool { return x.Name == name })
		if i >= 0 && (a.LogGroups[i].RetentionInDays != 365 || a.LogGroups[i].KmsKeyId == "") {
			t.Errorf("log group %s: kept %d days, key %q; want 365 days and a KMS key", name, a.LogGroups[i].RetentionInDays, a.LogGroups[i].KmsKeyId)
		}
	}

	// Buckets encrypt with a customer-managed key of their account; only the
	// server access log buckets use S3-managed keys, as S3 requires.
	for _, name := range ofStack("AWS::S3::Bucket") {
		i := slices.IndexFunc(a.Buckets, func(x bucket) bool { return x.Name == name })
		if i < 0 || len(a.Buckets[i].Encryption.Rules) == 0 {
			continue
		}
		sse := a.Buckets[i].Encryption.Rules[0].ApplyServerSideEncryptionByDefault
		switch {
		case strings.Contains(name, "-s3logs-"):
			if sse.SSEAlgorithm != "AES256" {
				t.Errorf("access log bucket %s: %s, want AES256 (what S3 log delivery accepts)", name, sse.SSEAlgorithm)
			}
		case sse.SSEAlgorithm != "aws:kms" || slices.IndexFunc(a.Keys, func(k key) bool { return k.Arn == sse.KMSMasterKeyID }) < 0:
			t.Errorf("bucket %s: %s with %q, want aws:kms with a key of account %s", name, sse.SSEAlgorithm, sse.KMSMasterKeyID, s.Account)
		}
	}

	if path := s.Tags["DataPath"]; path != "" {
		checkDataPath(t, s, s.Tags["Production"], path, a)
		return
	}
	if production == "" || strings.HasPrefix(production, "pool-") {
		return
	}
	checkProduction(t, s, production, a)
}

// checkDataPath checks a production's DR or exchange stack: its bucket,
// encrypted with its own key under its alias, and for the exchange each
// vendor's role, trusted with its external id until its date, for an hour.
func checkDataPath(t *testing.T, s *stack, production, path string, a *account) {
	n := names.Names{Studio: s.Studio}
	bucketName, aliasName := n.ReplicaBucket(production, s.Account, s.Region), n.KeyAlias(production, names.ReplicaKey)
	if path == "exchange" {
		bucketName, aliasName = n.ExchangeBucket(production, s.Account, s.Region), n.KeyAlias(production, names.ExchangeKey)
	}
	ai := slices.IndexFunc(a.Aliases, func(x alias) bool { return x.AliasName == "alias/"+aliasName })
	bi := slices.IndexFunc(a.Buckets, func(x bucket) bool { return x.Name == bucketName })
	switch {
	case ai < 0:
		t.Errorf("no alias alias/%s", aliasName)
	case bi < 0 || len(a.Buckets[bi].Encryption.Rules) == 0:
		t.Errorf("no encrypted bucket %s", bucketName)
	case !strings.HasSuffix(a.Buckets[bi].Encryption.Rules[0].ApplyServerSideEncryptionByDefault.KMSMasterKeyID, keyID(a.Aliases[ai].TargetKeyId)):
		t.Errorf("bucket %s is encrypted with %s, want the key of alias/%s (%s)", bucketName,
			a.Buckets[bi].Encryption.Rules[0].ApplyServerSideEncryptionByDefault.KMSMasterKeyID, aliasName, a.Aliases[ai].TargetKeyId)
	}
	if path != "exchange" {
		return
	}
	vendors := 0
	for _, r := range a.Roles {
		if !strings.HasPrefix(r.RoleName, n.ProductionStack(production)+"-"+names.VendorPrefix) {
			continue
		}
		vendors++
		vendor := strings.TrimPrefix(r.RoleName, n.ProductionStack(production)+"-"+names.VendorPrefix)
		trust := string(r.AssumeRolePolicyDocument)
		if r.MaxSessionDuration != 3600 || !strings.Contains(trust, n.ExternalID(production, vendor)) || !strings.Contains(trust, "DateLessThan") {
			t.Errorf("vendor role %s: sessions of %ds, trust %s; want an hour, its external id and an end date", r.RoleName, r.MaxSessionDuration, trust)
		}
	}
	if vendors == 0 {
		t.Errorf("no vendor role %s-%s*", n.ProductionStack(production), names.VendorPrefix)
	}
}

// checkBootstrap checks what renderenv's bootstrap made in an account: the
// generated execution policy and boundary, and the CloudFormation execution
// role inside that boundary.
func checkBootstrap(t *testing.T, studio, account, region string, a *account) {
	q := (&manifest.Studio{Studio: studio}).BootstrapQualifier()
	name := "cdk-" + q + "-cfn-exec-role-" + account + "-" + region
	i := slices.IndexFunc(a.Roles, func(x role) bool { return x.RoleName == name })
	if i < 0 {
		t.Fatalf("no role %s", name)
	}
	r := a.Roles[i]
	exec := "arn:aws:iam::" + account + ":policy/cdk-" + q + "-renderenv-exec"
	boundary := "arn:aws:iam::" + account + ":policy/" + bootstrap.BoundaryName(q)
	for _, p := range []string{exec, boundary} {
		if !slices.Contains(a.LocalPolicies, p) {
			t.Errorf("no policy %s", p)
		}
	}
	// Moto's CloudFormation attaches no ManagedPolicyArns to a role (a
	// role without any is accepted here; the template test checks them).
	if len(r.AttachedPolicies) > 0 && !slices.Equal(r.AttachedPolicies, []string{exec}) {
		t.Errorf("%s has policies %v, want only %s", name, r.AttachedPolicies, exec)
	}
	if r.PermissionsBoundary.PermissionsBoundaryArn != boundary {
		t.Errorf("%s has boundary %q, want %q", name, r.PermissionsBoundary.PermissionsBoundaryArn, boundary)
	}
}

// checkProduction checks the names and keys of one production's resources.
func checkProduction(t *testing.T, s *stack, production string, a *account) {
	prefix := s.Studio + "-" + production
	aliases := "alias/" + s.Studio + "/"

	// People and the scheduler assume these roles for an hour at most (ISE 1.3).
	for _, suffix := range []string{"key-admin", "data-operator", "log-reader", "launcher", "render"} {
		name := prefix + "-" + suffix
		i := slices.IndexFunc(a.Roles, func(x role) bool { return x.RoleName == name })
		if i < 0 {
			t.Errorf("no role %s", name)
		} else if a.Roles[i].MaxSessionDuration != 3600 {
			t.Errorf("role %s: sessions of %ds, want 3600s", name, a.Roles[i].MaxSessionDuration)
		}
		// Every role carries renderenv bootstrap's boundary but the render
		// nodes', which keeps its own.
		want := "arn:aws:iam::" + s.Account + ":policy/" + bootstrap.BoundaryName((&manifest.Studio{Studio: s.Studio}).BootstrapQualifier())
		if suffix == "render" {
			want = "arn:aws:iam::" + s.Account + ":policy/" + name + "-boundary"
		}
		if i >= 0 && a.Roles[i].PermissionsBoundary.PermissionsBoundaryArn != want {
			t.Errorf("role %s: boundary %q, want %q", name, a.Roles[i].PermissionsBoundary.PermissionsBoundaryArn, want)
		}
	}

	// The production's keys: its own (alias/<studio>/<production>/<purpose>), or
	// its account pool's when it asks for nothing dedicated (Tier 3).
	aliasOf := func(purpose string) (string, string) {
		for _, owner := range []string{production, "pool-" + s.Account} {
			name := aliases + owner + "/" + purpose
			if i := slices.IndexFunc(a.Aliases, func(x alias) bool { return x.AliasName == name }); i >= 0 {
				return name, fmt.Sprintf("arn:aws:kms:%s:%s:key/%s", s.Region, s.Account, keyID(a.Aliases[i].TargetKeyId))
			}
		}
		t.Errorf("no alias %s%s/%s, nor of the pool of %s", aliases, production, purpose, s.Account)
		return "", ""
	}
	var own []string
	for _, al := range a.Aliases {
		if strings.HasPrefix(al.AliasName, aliases+production+"/") {
			own = append(own, al.AliasName)
		}
	}
	slices.Sort(own)
	if len(own) > 0 && !slices.Equal(own, []string{
		aliases + production + "/content-asset",
		aliases + production + "/logging",
		aliases + production + "/root-volume",
	}) {
		t.Errorf("aliases %v, want %s%s/{content-asset,logging,root-volume}", own, aliases, production)
	}
	_, assetKey := aliasOf("content-asset")
	_, rootKey := aliasOf("root-volume")
	_, logKey := aliasOf("logging")

	assets := fmt.Sprintf("%s-assets-%s-%s", prefix, s.Account, s.Region)
	if i := slices.IndexFunc(a.Buckets, func(x bucket) bool { return x.Name == assets }); i < 0 {
		t.Errorf("no asset bucket %s", assets)
	} else if got := a.Buckets[i].Encryption.Rules; len(got) == 0 || got[0].ApplyServerSideEncryptionByDefault.KMSMasterKeyID != assetKey {
		t.Errorf("asset bucket %s: %+v, want aws:kms with the content-asset key %s", assets, got, assetKey)
	}
	for _, lg := range a.LogGroups {
		if strings.HasPrefix(lg.Name, "/"+prefix+"/") && lg.KmsKeyId != logKey {
			t.Errorf("log group %s: key %q, want the logging key %s", lg.Name, lg.KmsKeyId, logKey)
		}
	}
	templates := 0
	for _, lt := range a.LaunchTemplates {
		if !strings.HasPrefix(lt.LaunchTemplateName, prefix+"-") {
			continue
		}
		templates++
		for j, bdm := range lt.LaunchTemplateData.BlockDeviceMappings {
			// The root volume with the root-volume key, scratch with the
			// content-asset key (README, Render nodes).
			want := assetKey
			if j == 0 {
				want = rootKey
			}
			if bdm.Ebs.KmsKeyId != want {
				t.Errorf("launch template %s: %s with key %s, want %s", lt.LaunchTemplateName, bdm.DeviceName, bdm.Ebs.KmsKeyId, want)
			}
		}
	}
	if templates == 0 {
		t.Errorf("no launch template %s-*", prefix)
	}
}

// checkShapes checks that each estate has the shape it is deployed to show,
// from its templates: with an organization, the central trail alone and the
// Transit Gateway shared with the organization; without, a trail in every
// account but the log archive (the management account's in the network
// stack, each production's in its stack) and the gateway shared with each
// production account by id.
func checkShapes(t *testing.T, asm []*stack) {
	t.Helper()
	for _, s := range asm {
		i := slices.IndexFunc(testEstates, func(e testEstate) bool { return e.studio == s.Studio })
		if i < 0 {
			t.Fatalf("%s: no test estate of studio %s", s.Name, s.Studio)
		}
		e := testEstates[i]
		trails, shares, vpcs, copies := 0, 0, 0, 0
		for logical, r := range s.Resources {
			switch r.Type {
			case "AWS::EC2::VPC":
				vpcs++
			case "AWS::EC2::FlowLog":
				if str(r.Properties, "LogDestinationType") == "s3" {
					copies++
					if want := "arn:aws:s3:::" + s.Studio + "-audit-archive-"; !strings.HasPrefix(str(r.Properties, "LogDestination"), want) {
						t.Errorf("%s/%s: flow logs copied to %s, want the log-archive bucket %s...", s.Name, logical, str(r.Properties, "LogDestination"), want)
					}
				}
			case "AWS::CloudTrail::Trail":
				trails++
			case "AWS::RAM::ResourceShare":
				shares++
				principals, _ := r.Properties["Principals"].([]any)
				for _, p := range principals {
					v, _ := p.(string)
					ok, want := strings.HasPrefix(v, "arn:aws:organizations::"), "the organization only"
					if e.withoutOrganization {
						ok, want = len(v) == 12 && strings.Trim(v, "0123456789") == "", "account ids only (no organization)"
					}
					if !ok {
						t.Errorf("%s/%s: shared with %v; want %s", s.Name, logical, p, want)
					}
				}
				if len(principals) == 0 {
					t.Errorf("%s/%s: shared with nobody", s.Name, logical)
				}
			}
		}
		name := strings.TrimPrefix(s.Name, s.Studio+"-")
		wantTrails := 0
		switch {
		case name == "logging":
			wantTrails = 1 // the central trail
		case name == "network" && e.withoutLogArchive:
			// The central trail, in the same account, records it.
		case strings.HasSuffix(name, "-dr"):
			// The production's own trail is multi-region and records it.
		case e.withoutOrganization && !strings.HasPrefix(name, "pool-"):
			wantTrails = 1 // the account's own
		}
		if trails != wantTrails {
			t.Errorf("%s: %d CloudTrail trails, want %d (organization: %v)", s.Name, trails, wantTrails, !e.withoutOrganization)
		}
		// With a log-archive account every VPC copies its flow logs there;
		// without one there is nowhere to copy to.
		if wantCopies := map[bool]int{false: vpcs}[e.withoutLogArchive]; copies != wantCopies {
			t.Errorf("%s: %d flow logs copied to the log-archive bucket for %d VPCs, want %d (log-archive account: %v)", s.Name, copies, vpcs, wantCopies, !e.withoutLogArchive)
		}
		if wantShares := map[bool]int{true: 1}[name == "network"]; shares != wantShares {
			t.Errorf("%s: %d RAM shares, want %d", s.Name, shares, wantShares)
		}
	}
}
