package render_test

import (
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"

	"github.com/renderenv/renderenv/constructs/render"
	"github.com/renderenv/renderenv/internal/cdktest"
)

// template is the launch template of profile p.
func template(t testing.TB, tpl assertions.Template, p render.Profile) cdktest.Resource {
	t.Helper()
	return cdktest.One(t, tpl, "AWS::EC2::LaunchTemplate", map[string]any{"Properties": map[string]any{"LaunchTemplateName": prefix + "-" + p.Name}})
}

func data(r cdktest.Resource) map[string]any {
	d, _ := r.Properties["LaunchTemplateData"].(map[string]any)
	return d
}

// key is the logical id of the key set's key for purpose.
func key(t testing.TB, tpl assertions.Template, purpose string) string {
	t.Helper()
	return cdktest.One(t, tpl, "AWS::KMS::Key", map[string]any{"Properties": map[string]any{
		"Description": assertions.Match_StringLikeRegexp(&[]string{" " + purpose + " key: "}[0]),
	}}).ID
}

func TestOneLaunchTemplatePerProfileNamedAfterIt(t *testing.T) {
	tpl := templates(t).Fleet
	cdktest.Count(t, tpl, "AWS::EC2::LaunchTemplate", 2)
	for _, p := range []render.Profile{spot, onDemand} {
		cdktest.HasProperties(t, tpl, "AWS::EC2::LaunchTemplate", map[string]any{
			"LaunchTemplateName": prefix + "-" + p.Name,
			"LaunchTemplateData": cdktest.Obj(map[string]any{"InstanceType": p.InstanceTypes[0]}),
		})
	}
}

func TestLaunchTemplatesRequireImdsv2AndGiveNoPublicAddressOrKeyPair(t *testing.T) {
	tpl := templates(t).Fleet
	group := cdktest.One(t, tpl, "AWS::EC2::SecurityGroup", nil).ID
	cdktest.Check(t, "every launch template", func() {
		tpl.AllResourcesProperties(&[]string{"AWS::EC2::LaunchTemplate"}[0], map[string]any{
			"LaunchTemplateData": cdktest.Obj(map[string]any{
				"MetadataOptions": map[string]any{"HttpTokens": "required", "HttpPutResponseHopLimit": 1, "InstanceMetadataTags": "enabled"},
				"NetworkInterfaces": []any{map[string]any{
					"DeviceIndex": 0, "AssociatePublicIpAddress": false, "Groups": []any{cdktest.GetAtt(group, "GroupId")},
				}},
				"KeyName":          assertions.Match_Absent(),
				"SecurityGroupIds": assertions.Match_Absent(),
				"EbsOptimized":     true,
				"Monitoring":       map[string]any{"Enabled": true},
			}),
		})
	})
}

func TestVolumesAreEncryptedWithTheirKeysAndDieWithTheInstance(t *testing.T) {
	tpl := templates(t).Fleet
	root, asset := key(t, tpl, "root-volume"), key(t, tpl, "content-asset")
	ebs := func(size int, key string) map[string]any {
		return map[string]any{
			"VolumeSize": size, "VolumeType": "gp3", "Encrypted": true,
			"KmsKeyId": cdktest.GetAtt(key, "Arn"), "DeleteOnTermination": true,
		}
	}
	cdktest.HasProperties(t, tpl, "AWS::EC2::LaunchTemplate", map[string]any{
		"LaunchTemplateName": prefix + "-" + spot.Name,
		"LaunchTemplateData": cdktest.Obj(map[string]any{"BlockDeviceMappings": []any{
			map[string]any{"DeviceName": "/dev/xvda", "Ebs": ebs(spot.RootVolumeGiB, root)},
			// Scratch holds content: the asset key (ISE 10.9).
			map[string]any{"DeviceName": "/dev/sdb", "Ebs": ebs(spot.ScratchVolumeGiB, asset)},
		}}),
	})
}

func TestProfileWithoutScratchHasOnlyTheRootVolume(t *testing.T) {
	tpl := templates(t).Fleet
	root := key(t, tpl, "root-volume")
	cdktest.HasProperties(t, tpl, "AWS::EC2::LaunchTemplate", map[string]any{
		"LaunchTemplateName": prefix + "-" + onDemand.Name,
		"LaunchTemplateData": cdktest.Obj(map[string]any{"BlockDeviceMappings": []any{
			// The AMI's own root device: a mapping beside it would leave
			// the root volume outside the root-volume key.
			map[string]any{"DeviceName": "/dev/sda1", "Ebs": cdktest.Obj(map[string]any{
				"VolumeSize": onDemand.RootVolumeGiB, "Encrypted": true, "KmsKeyId": cdktest.GetAtt(root, "Arn"),
			})},
		}}),
	})
}

func TestEveryBlockDeviceIsEncryptedWithACustomerKey(t *testing.T) {
	for name, tpl := range map[string]assertions.Template{"fleet": templates(t).Fleet, "workers": templates(t).Workers} {
		for _, lt := range cdktest.Find(t, tpl, "AWS::EC2::LaunchTemplate", nil) {
			devices, _ := data(lt)["BlockDeviceMappings"].([]any)
			if len(devices) == 0 {
				t.Errorf("%s %s: no block devices: the AMI's unencrypted defaults would apply", name, lt.ID)
			}
			for _, d := range devices {
				m, _ := d.(map[string]any)
				e, _ := m["Ebs"].(map[string]any)
				if e["Encrypted"] != true || e["KmsKeyId"] == nil || e["DeleteOnTermination"] != true {
					t.Errorf("%s %s: device %v is %v", name, lt.ID, m["DeviceName"], e)
				}
			}
		}
	}
}

func TestSpotProfilesTerminateOneTimeRequests(t *testing.T) {
	tpl := templates(t).Fleet
	cdktest.HasProperties(t, tpl, "AWS::EC2::LaunchTemplate", map[string]any{
		"LaunchTemplateName": prefix + "-" + spot.Name,
		"LaunchTemplateData": cdktest.Obj(map[string]any{"InstanceMarketOptions": map[string]any{
			"MarketType":  "spot",
			"SpotOptions": map[string]any{"InstanceInterruptionBehavior": "terminate", "SpotInstanceType": "one-time"},
		}}),
	})
}

func TestOnDemandProfilesHaveNoMarketOptions(t *testing.T) {
	cdktest.HasProperties(t, templates(t).Fleet, "AWS::EC2::LaunchTemplate", map[string]any{
		"LaunchTemplateName": prefix + "-" + onDemand.Name,
		"LaunchTemplateData": cdktest.Obj(map[string]any{"InstanceMarketOptions": assertions.Match_Absent()}),
	})
}

func TestLaunchesTagInstancesVolumesAndInterfacesWithTheProductionTags(t *testing.T) {
	tpl := templates(t).Fleet
	for _, p := range []render.Profile{spot, onDemand} {
		lt := template(t, tpl, p)
		specs, _ := data(lt)["TagSpecifications"].([]any)
		want := []string{"instance", "network-interface", "volume"}
		if p.Spot {
			want = append(want, "spot-instances-request")
		}
		var types []string
		for _, s := range specs {
			m, _ := s.(map[string]any)
			typ, _ := m["ResourceType"].(string)
			types = append(types, typ)
			got := map[string]string{}
			list, _ := m["Tags"].([]any)
			for _, x := range list {
				kv, _ := x.(map[string]any)
				got[fmt.Sprint(kv["Key"])] = fmt.Sprint(kv["Value"])
			}
			for k, v := range tags {
				if got[k] != v {
					t.Errorf("%s: %s tag %s = %q, want %q", p.Name, typ, k, got[k], v)
				}
			}
			if got["RenderProfile"] != p.Name {
				t.Errorf("%s: %s tag RenderProfile = %q", p.Name, typ, got["RenderProfile"])
			}
		}
		sort.Strings(types)
		sort.Strings(want)
		if strings.Join(types, ",") != strings.Join(want, ",") {
			t.Errorf("%s tags %v at launch, want %v", p.Name, types, want)
		}
	}
}

func TestRenderRoleIsManagedBySessionManagerAndBounded(t *testing.T) {
	tpl := templates(t).Fleet
	boundary := cdktest.One(t, tpl, "AWS::IAM::ManagedPolicy", nil).ID
	cdktest.HasProperties(t, tpl, "AWS::IAM::Role", map[string]any{
		"RoleName":                 roleName,
		"AssumeRolePolicyDocument": cdktest.Obj(map[string]any{"Statement": []any{cdktest.Obj(map[string]any{"Principal": map[string]any{"Service": "ec2.amazonaws.com"}})}}),
		"ManagedPolicyArns": []any{map[string]any{"Fn::Join": []any{"", []any{
			"arn:", map[string]any{"Ref": "AWS::Partition"}, ":iam::aws:policy/AmazonSSMManagedInstanceCore",
		}}}},
		"PermissionsBoundary": cdktest.Ref(boundary),
	})
	// Both launch templates run as the render role.
	role := cdktest.One(t, tpl, "AWS::IAM::Role", map[string]any{"Properties": map[string]any{"RoleName": roleName}}).ID
	cdktest.CountProperties(t, tpl, "AWS::IAM::InstanceProfile", map[string]any{"Roles": []any{cdktest.Ref(role)}}, 2)
}

// sgRules are the rules of the render group: inline and separate.
func sgRules(t testing.TB, tpl assertions.Template, direction string) []string {
	t.Helper()
	g := cdktest.One(t, tpl, "AWS::EC2::SecurityGroup", nil)
	text := func(r map[string]any) string {
		peer := ""
		for _, k := range []string{"CidrIp", "CidrIpv6", "DestinationPrefixListId", "SourcePrefixListId", "SourceSecurityGroupId", "DestinationSecurityGroupId"} {
			if v, ok := r[k]; ok {
				peer = cdktest.Text(v)
			}
		}
		return fmt.Sprintf("%s %s %s-%s", cdktest.Text(r["IpProtocol"]), peer, cdktest.Text(r["FromPort"]), cdktest.Text(r["ToPort"]))
	}
	var out []string
	inline, _ := g.Properties["SecurityGroup"+direction].([]any)
	for _, x := range inline {
		if m, ok := x.(map[string]any); ok {
			out = append(out, text(m))
		}
	}
	for _, r := range cdktest.Find(t, tpl, "AWS::EC2::SecurityGroup"+direction, map[string]any{"Properties": map[string]any{
		"GroupId": cdktest.GetAtt(g.ID, "GroupId"),
	}}) {
		out = append(out, text(r.Properties))
	}
	sort.Strings(out)
	return out
}

func TestNothingConnectsToARenderNodeWithoutWorkerPorts(t *testing.T) {
	tpl := templates(t).Fleet
	if in := sgRules(t, tpl, "Ingress"); len(in) != 0 {
		t.Errorf("render group ingress %v, want none", in)
	}
	cdktest.Count(t, tpl, "AWS::EC2::SecurityGroupIngress", 0)
}

func TestWorkerPortsOpenOnlyToManagement(t *testing.T) {
	in := sgRules(t, templates(t).Workers, "Ingress")
	var want []string
	for _, p := range workerPorts {
		want = append(want, fmt.Sprintf("tcp %s %d-%d", mgmtCidr, p, p))
	}
	if strings.Join(in, ",") != strings.Join(want, ",") {
		t.Errorf("render group ingress %v, want %v", in, want)
	}
}

func TestRenderNodesNeverAcceptSshOrRdp(t *testing.T) {
	for name, tpl := range map[string]assertions.Template{"fleet": templates(t).Fleet, "workers": templates(t).Workers} {
		for _, r := range sgRules(t, tpl, "Ingress") {
			var proto, peer string
			var from, to int
			fmt.Sscanf(strings.Replace(r, "-", " ", 1), "%s %s %d %d", &proto, &peer, &from, &to)
			for _, port := range []int{22, 3389} {
				if proto == "-1" || (from <= port && port <= to) {
					t.Errorf("%s: ingress %s admits port %d", name, r, port)
				}
			}
			if peer == "0.0.0.0/0" || peer == "::/0" {
				t.Errorf("%s: ingress %s is open to the internet", name, r)
			}
		}
	}
}

func TestRenderNodesSendOnlyToSchedulerLicenseEndpointsS3AndStorage(t *testing.T) {
	out := sgRules(t, templates(t).Fleet, "Egress")
	var want []string
	for _, p := range append(append([]int(nil), schedPorts...), licensePorts...) {
		want = append(want, fmt.Sprintf("tcp %s %d-%d", mgmtCidr, p, p))
	}
	want = append(want, "tcp "+vpcCidr.String()+" 443-443", "tcp "+prefixList+" 443-443")
	for _, c := range storageCidrs {
		want = append(want, "tcp "+c+" 0-65535")
	}
	sort.Strings(want)
	if strings.Join(out, "\n") != strings.Join(want, "\n") {
		t.Errorf("render group egress:\n%s\nwant:\n%s", strings.Join(out, "\n"), strings.Join(want, "\n"))
	}
}

// launcher is the launcher role's logical id and its statements.
func launcher(t testing.TB, tpl assertions.Template) (string, []cdktest.Statement) {
	t.Helper()
	role := cdktest.One(t, tpl, "AWS::IAM::Role", map[string]any{"Properties": map[string]any{"RoleName": prefix + "-launcher"}})
	p := cdktest.One(t, tpl, "AWS::IAM::Policy", map[string]any{"Properties": map[string]any{"Roles": []any{cdktest.Ref(role.ID)}}})
	return role.ID, cdktest.Statements(p.Properties["PolicyDocument"])
}

// TestLauncherIsAssumedOnlyByTheSchedulerRoleForAnHour: no other principal
// of the management account may assume the launcher, whatever its IAM
// policy says.
func TestLauncherIsAssumedOnlyByTheSchedulerRoleForAnHour(t *testing.T) {
	tpl := templates(t).Fleet
	cdktest.HasProperties(t, tpl, "AWS::IAM::Role", map[string]any{
		"RoleName":           prefix + "-launcher",
		"MaxSessionDuration": 3600,
		"AssumeRolePolicyDocument": map[string]any{"Version": "2012-10-17", "Statement": []any{map[string]any{
			"Action": "sts:AssumeRole", "Effect": "Allow", "Principal": map[string]any{"AWS": "arn:aws:iam::" + management + ":root"},
			"Condition": map[string]any{"ArnEquals": map[string]any{"aws:PrincipalArn": []any{networkScheduler}}},
		}}},
	})
}

func TestNamedLaunchersAreTheOnlyOnesWhoMayAssumeTheLauncher(t *testing.T) {
	cdktest.HasProperties(t, templates(t).Workers, "AWS::IAM::Role", map[string]any{
		"RoleName": prefix + "-launcher",
		"AssumeRolePolicyDocument": map[string]any{"Version": "2012-10-17", "Statement": []any{map[string]any{
			"Action": "sts:AssumeRole", "Effect": "Allow", "Principal": map[string]any{"AWS": "arn:aws:iam::" + management + ":root"},
			"Condition": map[string]any{"ArnEquals": map[string]any{"aws:PrincipalArn": []any{schedulerRole}}},
		}}},
	})
}

func TestLauncherLaunchesOnlyFromTheProductionsTemplates(t *testing.T) {
	tpl := templates(t).Fleet
	_, statements := launcher(t, tpl)
	var arns []string
	for _, p := range []render.Profile{spot, onDemand} {
		arns = append(arns, "arn:aws:ec2:"+region+":"+account+":launch-template/${"+template(t, tpl, p).ID+"}")
	}
	for _, s := range statements {
		if s.Effect() != "Allow" || !s.Has("ec2:RunInstances") && !s.Has("ec2:CreateFleet") {
			continue
		}
		res := s.Resources()
		if cdktest.SameSet(res, []string{"*"}) {
			lt, _ := s.Condition("ArnLike", "ec2:LaunchTemplate")
			if !cdktest.SameSet(lt, arns) {
				t.Errorf("statement %q launches anything with ec2:LaunchTemplate %v, want exactly %v", s.Sid(), lt, arns)
			}
			continue
		}
		if !cdktest.SameSet(res, arns) {
			t.Errorf("statement %q launches on %v, want only the production's templates", s.Sid(), res)
		}
	}
}

func TestLauncherPassesOnlyTheRenderRoleAndOnlyToEc2(t *testing.T) {
	tpl := templates(t).Fleet
	role := cdktest.One(t, tpl, "AWS::IAM::Role", map[string]any{"Properties": map[string]any{"RoleName": roleName}}).ID
	_, statements := launcher(t, tpl)
	var found int
	for _, s := range statements {
		if !s.Has("iam:PassRole") {
			continue
		}
		found++
		if !cdktest.SameSet(s.Actions(), []string{"iam:PassRole"}) {
			t.Errorf("the PassRole statement also grants %v", s.Actions())
		}
		if !cdktest.SameSet(s.Resources(), []string{"${" + role + ".Arn}"}) {
			t.Errorf("the launcher may pass %v, want only the render role", s.Resources())
		}
		if svc, _ := s.Condition("StringEquals", "iam:PassedToService"); !cdktest.SameSet(svc, []string{"ec2.amazonaws.com"}) {
			t.Errorf("the launcher passes the role to %v, want ec2.amazonaws.com", svc)
		}
	}
	if found != 1 {
		t.Errorf("%d statements grant iam:PassRole, want 1", found)
	}
	for _, s := range statements {
		for _, a := range s.Actions() {
			if a == "*" || strings.HasSuffix(a, ":*") || strings.HasPrefix(a, "iam:") && a != "iam:PassRole" {
				t.Errorf("launcher statement %q grants %s", s.Sid(), a)
			}
		}
	}
}

func TestSessionsAreLoggedEncryptedToTheSessionLogGroup(t *testing.T) {
	tpl := templates(t).Fleet
	group := cdktest.One(t, tpl, "AWS::Logs::LogGroup", map[string]any{"Properties": map[string]any{"LogGroupName": "/" + prefix + "/sessions"}}).ID
	logging := key(t, tpl, "logging")
	cdktest.HasProperties(t, tpl, "AWS::SSM::Document", map[string]any{
		"Name":         prefix + "-sessions",
		"DocumentType": "Session",
		"Content": cdktest.Obj(map[string]any{"inputs": cdktest.Obj(map[string]any{
			"cloudWatchLogGroupName":      cdktest.Ref(group),
			"cloudWatchEncryptionEnabled": true,
			"kmsKeyId":                    cdktest.GetAtt(logging, "Arn"),
			"runAsEnabled":                false,
		})}),
	})
	cdktest.Check(t, "every log group", func() {
		tpl.AllResources(&[]string{"AWS::Logs::LogGroup"}[0], map[string]any{
			"Properties":     cdktest.Obj(map[string]any{"KmsKeyId": cdktest.GetAtt(logging, "Arn"), "RetentionInDays": 365}),
			"DeletionPolicy": "Retain",
		})
	})
}

// TestLauncherCannotOverrideTheTemplatesHardening: RunInstances and
// CreateFleet parameters replace the template's, so each hardening the
// templates carry is also a deny on the launcher.
func TestLauncherCannotOverrideTheTemplatesHardening(t *testing.T) {
	_, statements := launcher(t, templates(t).Fleet)
	arn := func(kind string) string { return "arn:aws:ec2:" + region + ":" + account + ":" + kind + "/*" }
	for _, c := range []struct {
		sid, resource, operator, key, value string
	}{
		{"NoKeyPairs", arn("key-pair"), "", "", ""},
		{"NoUnencryptedVolumes", arn("volume"), "Bool", "ec2:Encrypted", "false"},
		{"Imdsv2Only", arn("instance"), "StringNotEquals", "ec2:MetadataHttpTokens", "required"},
		{"TemplateSecurityGroupsOnly", arn("security-group"), "Bool", "ec2:IsLaunchTemplateResource", "false"},
		{"TemplateImageOnly", "arn:aws:ec2:" + region + "::image/*", "Bool", "ec2:IsLaunchTemplateResource", "false"},
		{"TemplateVolumesOnly", arn("volume"), "Bool", "ec2:IsLaunchTemplateResource", "false"},
		{"MetadataHopLimitOne", arn("instance"), "NumericGreaterThan", "ec2:MetadataHttpPutResponseHopLimit", "1"},
		{"ProductionSubnetsOnly", arn("subnet"), "ArnNotEquals", "ec2:Vpc", vpcArn},
	} {
		var s cdktest.Statement
		for _, st := range statements {
			if st.Sid() == c.sid {
				s = st
			}
		}
		if s == nil {
			t.Errorf("the launcher has no %s statement", c.sid)
			continue
		}
		if s.Effect() != "Deny" || !cdktest.SameSet(s.Actions(), []string{"ec2:RunInstances", "ec2:CreateFleet"}) || !cdktest.SameSet(s.Resources(), []string{c.resource}) {
			t.Errorf("%s: %s %v on %v, want Deny RunInstances and CreateFleet on %s", c.sid, s.Effect(), s.Actions(), s.Resources(), c.resource)
		}
		if c.key == "" {
			if s["Condition"] != nil {
				t.Errorf("%s: conditions %v, want an unconditional deny", c.sid, s["Condition"])
			}
			continue
		}
		if got, _ := s.Condition(c.operator, c.key); !cdktest.SameSet(got, []string{c.value}) {
			t.Errorf("%s: %s %s = %v, want %s", c.sid, c.operator, c.key, got, c.value)
		}
	}
}

func TestLauncherTagsOnlyAtLaunchWithEveryProductionTag(t *testing.T) {
	_, statements := launcher(t, templates(t).Fleet)
	var found int
	for _, s := range statements {
		if !s.Has("ec2:CreateTags") {
			continue
		}
		found++
		if got, _ := s.Condition("StringEquals", "ec2:CreateAction"); !cdktest.SameSet(got, []string{"RunInstances", "CreateFleet"}) {
			t.Errorf("the launcher tags on %v, want only at launch", got)
		}
		for k, v := range tags {
			if got, _ := s.Condition("StringEquals", "aws:RequestTag/"+k); !cdktest.SameSet(got, []string{v}) {
				t.Errorf("the launcher tags with %s=%v, want %s", k, got, v)
			}
		}
	}
	if found != 1 {
		t.Errorf("%d statements allow ec2:CreateTags, want 1", found)
	}
}

func TestLauncherStartsOnlyTheInstanceTypesEachProfileLists(t *testing.T) {
	tpl := templates(t).Fleet
	_, statements := launcher(t, tpl)
	for _, p := range []render.Profile{spot, onDemand} {
		arn := "arn:aws:ec2:" + region + ":" + account + ":launch-template/${" + template(t, tpl, p).ID + "}"
		var found bool
		for _, s := range statements {
			lt, _ := s.Condition("ArnLike", "ec2:LaunchTemplate")
			types, ok := s.Condition("StringNotEquals", "ec2:InstanceType")
			if s.Effect() != "Deny" || !ok || !cdktest.SameSet(lt, []string{arn}) {
				continue
			}
			found = true
			if !cdktest.SameSet(types, p.InstanceTypes) {
				t.Errorf("profile %s: launches outside %v are denied, want exactly its types %v", p.Name, types, p.InstanceTypes)
			}
			if !cdktest.SameSet(s.Actions(), []string{"ec2:RunInstances", "ec2:CreateFleet"}) || !cdktest.SameSet(s.Resources(), []string{"arn:aws:ec2:" + region + ":" + account + ":instance/*"}) {
				t.Errorf("profile %s: %v on %v, want RunInstances and CreateFleet on instances", p.Name, s.Actions(), s.Resources())
			}
		}
		if !found {
			t.Errorf("profile %s: no statement limits its template to the instance types it lists", p.Name)
		}
	}
}

// TestSessionsAreAlsoArchivedUnderTheProductionsOwnPrefix: with a log
// archive, SSM Agent uploads each session, encrypted, to the production's
// prefix of the log-archive bucket; the render role may write there and
// nowhere else of that bucket, never read or delete, and use the
// log-archive logging key only through S3 for that bucket.
func TestSessionsAreAlsoArchivedUnderTheProductionsOwnPrefix(t *testing.T) {
	tpl := templates(t).Fleet
	cdktest.HasProperties(t, tpl, "AWS::SSM::Document", map[string]any{
		"DocumentType": "Session",
		"Content": cdktest.Obj(map[string]any{"inputs": cdktest.Obj(map[string]any{
			"s3BucketName":        archiveBucket,
			"s3KeyPrefix":         "sessions/333333333333/nightfall",
			"s3EncryptionEnabled": true,
		})}),
	})
	inline, _ := renderRolePolicies(t, tpl)
	var put, kms bool
	for _, s := range inline {
		for _, r := range s.Resources() {
			if !strings.Contains(r, archiveBucket) && !strings.Contains(r, ":"+logArchive+":") {
				continue
			}
			for _, a := range s.Actions() {
				switch a {
				case "s3:PutObject":
					put = true
					if r != "arn:aws:s3:::"+archiveBucket+"/sessions/333333333333/nightfall/*" {
						t.Errorf("statement %q writes %s, want the production's own prefix only", s.Sid(), r)
					}
				case "s3:PutObjectAcl":
					if r != "arn:aws:s3:::"+archiveBucket+"/sessions/333333333333/nightfall/*" {
						t.Errorf("statement %q sets ACLs on %s, want the production's own prefix only", s.Sid(), r)
					}
				case "s3:GetEncryptionConfiguration":
				case "kms:GenerateDataKey", "kms:Decrypt":
					kms = true
					via, _ := s.Condition("StringEquals", "kms:ViaService")
					alias, _ := s.Condition("ForAnyValue:StringEquals", "kms:ResourceAliases")
					ctx, _ := s.Condition("StringLike", "kms:EncryptionContext:aws:s3:arn")
					if !cdktest.SameSet(via, []string{"s3." + region + ".amazonaws.com"}) || !cdktest.SameSet(alias, []string{"alias/acme/audit/logging"}) || len(ctx) == 0 {
						t.Errorf("statement %q uses the log-archive key via %v, alias %v, context %v", s.Sid(), via, alias, ctx)
					}
				default:
					t.Errorf("statement %q lets render nodes %s on %s: they only write the archive", s.Sid(), a, r)
				}
			}
		}
	}
	if !put || !kms {
		t.Errorf("the render role cannot archive its sessions: write %v, encrypt %v", put, kms)
	}
}

func TestWithoutALogArchiveSessionsStayInTheProductionsLogGroup(t *testing.T) {
	tpl := templates(t).Workers
	cdktest.HasProperties(t, tpl, "AWS::SSM::Document", map[string]any{
		"DocumentType": "Session",
		"Content": cdktest.Obj(map[string]any{"inputs": cdktest.Obj(map[string]any{
			"s3BucketName": assertions.Match_Absent(),
		})}),
	})
	inline, _ := renderRolePolicies(t, tpl)
	for _, s := range inline {
		for _, r := range s.Resources() {
			if strings.Contains(r, archiveBucket) || strings.Contains(r, ":"+logArchive+":") {
				t.Errorf("statement %q reaches %s without a log archive", s.Sid(), r)
			}
		}
	}
}

// A closing production's fleet has no launch template (so no instance
// profile) and no launcher: nothing can start a node (ISE 6.2).
func TestClosedFleetHasNoLaunchTemplateInstanceProfileOrLauncher(t *testing.T) {
	tpl := templates(t).Closed
	cdktest.Count(t, tpl, "AWS::EC2::LaunchTemplate", 0)
	cdktest.Count(t, tpl, "AWS::IAM::InstanceProfile", 0)
	cdktest.CountProperties(t, tpl, "AWS::IAM::Role", map[string]any{"RoleName": prefix + "-launcher"}, 0)
	cdktest.HasProperties(t, tpl, "AWS::IAM::Role", map[string]any{"RoleName": roleName})
	cdktest.CountProperties(t, templates(t).Fleet, "AWS::IAM::Role", map[string]any{"RoleName": prefix + "-launcher"}, 1)
}
