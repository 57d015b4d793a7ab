package evidence

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/renderenv/renderenv/internal/cfn"
)

// Tag checks: ISE 1.2.

// taggable are the CloudFormation types of the estate that accept tags.
var taggable = map[string]bool{
	"AWS::CloudTrail::Trail": true, "AWS::CloudWatch::Alarm": true, "AWS::EC2::CustomerGateway": true,
	"AWS::EC2::EIP": true, "AWS::EC2::FlowLog": true, "AWS::EC2::InternetGateway": true,
	"AWS::EC2::LaunchTemplate": true, "AWS::EC2::NatGateway": true, "AWS::EC2::NetworkAcl": true,
	"AWS::EC2::RouteTable": true, "AWS::EC2::SecurityGroup": true, "AWS::EC2::Subnet": true,
	"AWS::EC2::TransitGateway": true, "AWS::EC2::TransitGatewayAttachment": true,
	"AWS::EC2::TransitGatewayRouteTable": true, "AWS::EC2::VPC": true, "AWS::EC2::VPCEndpoint": true,
	"AWS::EC2::VPNConnection": true, "AWS::IAM::Role": true, "AWS::KMS::Key": true,
	"AWS::Lambda::Function": true, "AWS::Logs::LogGroup": true, "AWS::RAM::ResourceShare": true,
	"AWS::S3::Bucket": true, "AWS::SNS::Topic": true, "AWS::SSM::Document": true, "AWS::SSM::Parameter": true,
}

// ResourceGroups are the values ISE 1.2's ResourceGroup tag may take.
var resourceGroups = map[string]bool{
	"render-instance": true, "application-instance": true, "asset-storage": true,
	"logging": true, "network": true, "security": true,
}

// tagProblems lists what is wrong with a tag set; want maps keys to required
// values ("" for any non-empty value).
func tagProblems(tags map[string]string, want map[string]string) []string {
	var out []string
	for _, k := range []string{"Studio", "Production", "Tier", "CostCentre", "Owner", "ResourceGroup"} {
		w, needed := want[k]
		if !needed {
			continue
		}
		got, ok := tags[k]
		switch {
		case !ok || got == "":
			out = append(out, "no "+k)
		case w != "" && got != w:
			out = append(out, fmt.Sprintf("%s=%s, not %s", k, got, w))
		case k == "ResourceGroup" && !resourceGroups[got]:
			out = append(out, fmt.Sprintf("ResourceGroup=%s is not one of the six groups", got))
		}
	}
	return out
}

func tagText(tags map[string]string) string {
	var parts []string
	for _, k := range []string{"Studio", "Production", "Tier", "CostCentre", "Owner", "ResourceGroup"} {
		if v, ok := tags[k]; ok {
			parts = append(parts, k+"="+v)
		}
	}
	return strings.Join(parts, ", ")
}

// checkTags: every taggable resource of the production's stacks carries the
// six tags with the production's values; the pool and link stacks, which
// serve more than one production or the studio, carry the five shared ones
// (ISE 1.2). RE-TAG-001 and RE-TAG-002 hold every stack to the tags being
// present and consistent; this check holds the production's stacks to the
// values its manifest gives.
func checkTags(v *view) result {
	tier := strconv.FormatInt(v.r.Tier, 10)
	prodWant := map[string]string{"Studio": v.studio.Studio, "Production": v.r.Name, "Tier": tier, "CostCentre": v.r.CostCentre, "Owner": v.r.Owner, "ResourceGroup": ""}
	sharedWant := map[string]string{"Studio": v.studio.Studio, "Tier": "", "CostCentre": "", "Owner": "", "ResourceGroup": ""}
	var problems []string
	var e []Evidence
	total := 0
	for _, name := range []string{v.prod, v.pool, v.link} {
		if name == "" {
			continue
		}
		want := sharedWant
		if name == v.prod {
			want = prodWant
		}
		byType := map[string][]*cfn.Resource{}
		for _, r := range v.t(name).All() {
			tags, has := tagsOf(r)
			if !has && !taggable[r.Type] {
				continue
			}
			total++
			if !has {
				problems = append(problems, cite(r)+" carries no tags in the template (it would get only the stack's tags, when the stack is deployed with them)")
				continue
			}
			if ps := tagProblems(tags, want); len(ps) > 0 {
				problems = append(problems, fmt.Sprintf("%s: %s", cite(r), strings.Join(ps, ", ")))
				continue
			}
			byType[r.Type] = append(byType[r.Type], r)
		}
		if name != v.prod {
			continue
		}
		for _, ty := range slices.Sorted(maps.Keys(byType)) {
			rs := byType[ty]
			tags, _ := tagsOf(rs[0])
			prop := "Tags"
			if ty == "AWS::EC2::LaunchTemplate" {
				prop = "TagSpecifications[launch-template].Tags"
			}
			text := tagText(tags)
			if len(rs) > 1 {
				text += fmt.Sprintf(" (and %d more of this type)", len(rs)-1)
			}
			e = append(e, ev(rs[0], prop, text))
		}
	}
	// What render nodes and their volumes are tagged with at launch.
	for _, lt := range v.launchTemplates() {
		for i, spec := range cfn.AsList(lt.Prop(ltData + ".TagSpecifications")) {
			rt := lt.Stack.String(cfn.AsMap(spec)["ResourceType"])
			if rt != "instance" && rt != "volume" {
				continue
			}
			tags, _ := lt.TagsAt(fmt.Sprintf("%s.TagSpecifications[%d].Tags", ltData, i))
			if ps := tagProblems(tags, prodWant); len(ps) > 0 {
				problems = append(problems, fmt.Sprintf("%s: the %ss it launches get %s", cite(lt), rt, strings.Join(ps, ", ")))
				continue
			}
			e = append(e, ev(lt, fmt.Sprintf("LaunchTemplateData.TagSpecifications[%d]", i), rt+": "+tagText(tags)))
		}
	}
	return verdict(fmt.Sprintf("all %d taggable resources of the production, its pool and its link carry Studio, Tier, CostCentre, Owner and ResourceGroup, and those of %s also Production=%s; render nodes and volumes are tagged at launch", total, v.prod, v.r.Name), problems, e)
}
