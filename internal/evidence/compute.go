package evidence

import (
	"fmt"
	"net/netip"
	"strings"

	"github.com/renderenv/renderenv/internal/cfn"
)

// Compute checks: ISE 4.1, 4.2, 10.5, 10.8, 10.9. IMDSv2, key pairs, the
// image, volume encryption and deletion and how nodes end are judged by the
// RE-RND rules; the checks here cite the properties that show them.

const ltData = "LaunchTemplateData"

// withTemplates runs fn over every launch template and fails when there is
// none: every compute check needs at least one.
func withTemplates(v *view, ok string, fn func(lt *cfn.Resource, problems *[]string, e *[]Evidence)) result {
	lts := v.launchTemplates()
	if len(lts) == 0 {
		return failed("no AWS::EC2::LaunchTemplate in " + v.prod)
	}
	var problems []string
	var e []Evidence
	for _, lt := range lts {
		fn(lt, &problems, &e)
	}
	return verdict(ok, problems, e)
}

// citeProps cites properties of every launch template, as they are; the
// rules named by the check judge them.
func citeProps(ok string, paths ...string) func(v *view) result {
	return func(v *view) result {
		return withTemplates(v, ok, func(lt *cfn.Resource, _ *[]string, e *[]Evidence) {
			for _, p := range paths {
				if val := lt.Prop(ltData + "." + p); val != nil {
					*e = append(*e, ev(lt, ltData+"."+p, lt.Stack.String(val)))
				} else {
					*e = append(*e, ev(lt, ltData+"."+p, "not set"))
				}
			}
		})
	}
}

// checkNoKeyPair: no launch template installs an EC2 key pair (ISE 4.1;
// RE-RND-003).
var checkNoKeyPair = citeProps("no launch template installs a key pair", "KeyName")

// checkImdsV2: instance metadata needs session tokens, and the token
// response goes no further than the node itself (ISE 4.2, 10.8; RE-RND-001).
var checkImdsV2 = citeProps("every launch template requires IMDSv2 with a hop limit of 1",
	"MetadataOptions.HttpTokens", "MetadataOptions.HttpPutResponseHopLimit")

// checkImage: nodes boot the studio's image, named by an SSM parameter
// resolved at deploy time or a pinned AMI id (ISE 4.2, 10.8; RE-RND-007).
func checkImage(v *view) result {
	return withTemplates(v, "every launch template boots the studio's image: an AMI id or an SSM parameter the studio's image pipeline publishes", func(lt *cfn.Resource, _ *[]string, e *[]Evidence) {
		img := lt.Prop(ltData + ".ImageId")
		if id, attr := cfn.RefID(img); attr == "" && lt.Stack.Parameters[id] != nil {
			*e = append(*e, ev(lt, ltData+".ImageId", "SSM parameter "+cfn.Str(lt.Stack.Parameters[id].Default)))
			return
		}
		*e = append(*e, ev(lt, ltData+".ImageId", lt.Stack.String(img)))
	})
}

// checkSessionManagerRole: render nodes run as a role that Session Manager
// can reach them through (ISE 4.1).
func checkSessionManagerRole(v *view) result {
	return withTemplates(v, "every launch template's instance role attaches AmazonSSMManagedInstanceCore, so nodes are reached through Session Manager", func(lt *cfn.Resource, problems *[]string, e *[]Evidence) {
		roles := instanceRoles(lt)
		if len(roles) == 0 {
			*problems = append(*problems, cite(lt)+" has no instance profile with a role of the stack")
			return
		}
		for _, role := range roles {
			if !anyOf(role.ManagedPolicyNames(), func(n string) bool { return n == "AmazonSSMManagedInstanceCore" }) {
				*problems = append(*problems, fmt.Sprintf("%s, the role of %s, does not attach AmazonSSMManagedInstanceCore", cite(role), lt.ID))
				continue
			}
			*e = append(*e, ev(role, "ManagedPolicyArns", "AmazonSSMManagedInstanceCore"))
			if b := role.Resolve("PermissionsBoundary"); b != nil {
				*e = append(*e, ev(role, "PermissionsBoundary", b.ID))
			}
		}
	})
}

// checkVolumesEncrypted: every volume is encrypted with a customer-managed
// key (RE-RND-004) of the production or its pool, not another production's
// (ISE 4.2, 9.1).
func checkVolumesEncrypted(v *view) result {
	return withTemplates(v, "every volume of every launch template is encrypted with a customer-managed key of the production or its pool", func(lt *cfn.Resource, problems *[]string, e *[]Evidence) {
		for i, b := range cfn.AsList(lt.Prop(ltData + ".BlockDeviceMappings")) {
			ebs := cfn.AsMap(cfn.AsMap(b)["Ebs"])
			if ebs == nil {
				continue
			}
			p := fmt.Sprintf("%s.BlockDeviceMappings[%d].Ebs", ltData, i)
			key := v.kmsKeyOf(lt.Stack, ebs["KmsKeyId"])
			switch {
			case key == nil:
				*problems = append(*problems, fmt.Sprintf("%s: %s.KmsKeyId is not a customer-managed key of the estate", cite(lt), p))
			case key.Stack.Name != v.prod && key.Stack.Name != v.pool:
				// Another production's key (or the audit key) would let its
				// users read this one's volumes.
				*problems = append(*problems, fmt.Sprintf("%s: %s.KmsKeyId is %s, a key of neither %s nor its pool", cite(lt), p, cite(key), v.prod))
			default:
				*e = append(*e, ev(lt, p+".KmsKeyId", fmt.Sprintf("%s / %s, for %s", key.Stack.Name, key.ID, cfn.Str(cfn.AsMap(b)["DeviceName"]))))
			}
		}
	})
}

// checkDeleteOnTermination: no volume outlives its render node (ISE 10.9;
// RE-RND-005).
func checkDeleteOnTermination(v *view) result {
	return withTemplates(v, "every EBS volume of every launch template is deleted when its node terminates", func(lt *cfn.Resource, _ *[]string, e *[]Evidence) {
		for i, b := range cfn.AsList(lt.Prop(ltData + ".BlockDeviceMappings")) {
			if ebs := cfn.AsMap(cfn.AsMap(b)["Ebs"]); ebs != nil {
				*e = append(*e, ev(lt, fmt.Sprintf("%s.BlockDeviceMappings[%d].Ebs.DeleteOnTermination", ltData, i),
					fmt.Sprintf("%s (%s, %s GiB)", cfn.Compact(ebs["DeleteOnTermination"]), cfn.Str(cfn.AsMap(b)["DeviceName"]), cfn.Str(ebs["VolumeSize"]))))
			}
		}
	})
}

// checkNodesTerminate: a node that stops, hibernates or is interrupted does
// not keep its volumes (ISE 10.9; RE-RND-006).
func checkNodesTerminate(v *view) result {
	return withTemplates(v, "render nodes terminate rather than stop, on spot interruption and on a shutdown from inside, and none hibernates, so no volume outlives its node", func(lt *cfn.Resource, _ *[]string, e *[]Evidence) {
		const spot = ltData + ".InstanceMarketOptions.SpotOptions"
		if lt.Stack.String(lt.Prop(ltData+".InstanceMarketOptions.MarketType")) == "spot" {
			*e = append(*e, ev(lt, spot+".InstanceInterruptionBehavior", orDefault(lt.Prop(spot+".InstanceInterruptionBehavior"), "terminate")))
		}
		if s := lt.Prop(ltData + ".InstanceInitiatedShutdownBehavior"); s != nil {
			*e = append(*e, ev(lt, ltData+".InstanceInitiatedShutdownBehavior", s))
		} else {
			// EC2 cannot stop an instance of a one-time Spot request.
			*e = append(*e, ev(lt, spot+".SpotInstanceType", "one-time: EC2 never stops these nodes"))
		}
	})
}

// orDefault renders a value, or def when it is not set.
func orDefault(v any, def string) string {
	if v == nil {
		return def
	}
	return cfn.Compact(v)
}

// allowedManagementPorts are the scheduler and license ports.
func (v *view) allowedManagementPorts() map[float64]bool {
	allowed := map[float64]bool{}
	for _, p := range v.studio.Scheduler.Ports {
		allowed[float64(p)] = true
	}
	for _, l := range v.studio.LicenseServers {
		allowed[float64(l.Port)] = true
	}
	return allowed
}

// checkRenderEgress: render nodes may reach only the scheduler and license
// ports in management, their own VPC's endpoints and storage tier, and S3
// through its prefix list (ISE 10.5).
func checkRenderEgress(v *view) result {
	groups := v.renderGroups()
	if len(groups) == 0 {
		return failed("the launch templates of " + v.prod + " name no security group of the stack")
	}
	mgmt := v.studio.ManagementVpcCidr.Masked()
	allowed := v.allowedManagementPorts()
	var own netip.Prefix
	if vpc := v.vpc(); vpc != nil {
		own, _ = netip.ParsePrefix(cfn.Str(vpc.Properties["CidrBlock"]))
	}
	var problems []string
	var e []Evidence
	inGroup := map[*cfn.Resource]bool{}
	for _, g := range groups {
		inGroup[g] = true
	}
	for _, r := range sgRules(v.own(), true) {
		if !inGroup[r.res] && !(r.res.Type == "AWS::EC2::SecurityGroupEgress" && inGroup[r.res.Resolve("GroupId")]) {
			continue
		}
		destText := literal(r.res.Stack, r.m["CidrIp"])
		dest, err := netip.ParsePrefix(destText)
		if err == nil && cfn.Str(r.m["CidrIp"]) == "" {
			// Resolved through an SSM parameter: show the range itself.
			m := map[string]any{}
			for k, x := range r.m {
				m[k] = x
			}
			m["CidrIp"] = destText
			r.m = m
		}
		switch {
		case placeholder(r):
			continue
		case err != nil && (r.m["DestinationPrefixListId"] != nil || r.m["DestinationSecurityGroupId"] != nil):
			if r.covers(443) && !r.covers(80) {
				e = append(e, ev(r.res, r.prop, r.text()))
			} else {
				problems = append(problems, fmt.Sprintf("%s: %s allows %s", cite(r.res), r.prop, r.text()))
			}
		case err != nil:
			problems = append(problems, fmt.Sprintf("%s: %s has a destination this report cannot read (%s)", cite(r.res), r.prop, r.text()))
		case mgmt.IsValid() && mgmt.Contains(dest.Addr()) && dest.Bits() >= mgmt.Bits():
			from, _ := cfn.Number(r.m["FromPort"])
			to, _ := cfn.Number(r.m["ToPort"])
			if from != to || !allowed[from] || cfn.Str(r.m["IpProtocol"]) == "-1" {
				problems = append(problems, fmt.Sprintf("%s: %s opens %s to management, beyond the scheduler and license ports", cite(r.res), r.prop, r.text()))
			} else {
				e = append(e, ev(r.res, r.prop, r.text()+" ("+cfn.Str(r.m["Description"])+")"))
			}
		case own.IsValid() && own.Contains(dest.Addr()) && dest.Bits() >= own.Bits():
			e = append(e, ev(r.res, r.prop, r.text()+" ("+cfn.Str(r.m["Description"])+")"))
		default:
			problems = append(problems, fmt.Sprintf("%s: %s allows egress to %s, outside the VPC and management", cite(r.res), r.prop, r.text()))
		}
	}
	return verdict("render nodes reach the management VPC only on the scheduler and license ports; all their other egress stays in their own VPC or goes to S3 through the endpoint", problems, e)
}

// checkLinkIngress: the management account's scheduler and license groups
// admit the production's range only on their ports (ISE 10.5).
func checkLinkIngress(v *view) result {
	vpc := v.vpc()
	if vpc == nil {
		return failed("no VPC found for " + v.prod)
	}
	cidr := cfn.Str(vpc.Properties["CidrBlock"])
	allowed := v.allowedManagementPorts()
	ing := v.t(v.link).OfType("AWS::EC2::SecurityGroupIngress")
	if len(ing) == 0 {
		return failed(v.link + " opens nothing to the production: the scheduler cannot be reached")
	}
	var problems []string
	var e []Evidence
	for _, r := range ing {
		rule := sgRule{r, "rule", r.Properties}
		g := r.Resolve("GroupId")
		from, _ := cfn.Number(r.Properties["FromPort"])
		to, _ := cfn.Number(r.Properties["ToPort"])
		switch {
		case cfn.Str(r.Properties["CidrIp"]) != cidr:
			problems = append(problems, fmt.Sprintf("%s admits %s, not the production's range %s", cite(r), rule.text(), cidr))
		case from != to || !allowed[from]:
			problems = append(problems, fmt.Sprintf("%s admits %s, not a scheduler or license port", cite(r), rule.text()))
		case g == nil:
			problems = append(problems, cite(r)+": its group is not a group of "+v.network)
		default:
			e = append(e, ev(r, "CidrIp", fmt.Sprintf("%s to %s / %s", rule.text(), g.Stack.Name, g.ID)))
		}
	}
	return verdict(fmt.Sprintf("%s admits %s only to the scheduler and license groups, only on their ports", v.link, cidr), problems, e)
}

// checkNoAdminPorts: no security group rule admits SSH or RDP (ISE 4.1;
// RE-NET-008). The render groups' ingress is cited.
func checkNoAdminPorts(v *view) result {
	var e []Evidence
	for _, sg := range v.renderGroups() {
		e = append(e, ev(sg, "SecurityGroupIngress", fmt.Sprintf("%s; no port 22 or 3389", count(len(cfn.AsList(sg.Properties["SecurityGroupIngress"])), "rule", "rules"))))
	}
	return passed(fmt.Sprintf("none of the %s of the production, its pool and its link admits port 22 or 3389", count(len(sgRules(v.sgStacks(), false)), "ingress rule", "ingress rules")), e...)
}

// checkSsmEndpoints: the VPC reaches Systems Manager privately (ISE 4.1;
// RE-NET-012). The endpoints are cited.
func checkSsmEndpoints(v *view) result {
	vpc := v.vpc()
	if vpc == nil {
		return failed("no VPC found for " + v.prod)
	}
	var e []Evidence
	for _, ep := range vpc.Stack.OfType("AWS::EC2::VPCEndpoint") {
		svc := ep.Stack.String(ep.Properties["ServiceName"])
		for _, w := range []string{"ssm", "ssmmessages", "ec2messages"} {
			if ep.Resolve("VpcId") == vpc && strings.HasSuffix(svc, "."+w) && cfn.Truthy(ep.Properties["PrivateDnsEnabled"]) {
				e = append(e, ev(ep, "ServiceName", svc))
			}
		}
	}
	return passed("interface endpoints for ssm, ssmmessages and ec2messages, with private DNS, let Session Manager work without internet access", e...)
}

// sessionDocument is the production's Session Manager preferences document.
func (v *view) sessionDocument() *cfn.Resource {
	for _, d := range v.t(v.prod).OfType("AWS::SSM::Document") {
		if d.Stack.String(d.Properties["DocumentType"]) == "Session" {
			return d
		}
	}
	return nil
}

// checkSessionLogging: sessions are streamed, encrypted, to an encrypted log
// group (ISE 4.1, 10.10; RE-RND-008 judges the document). The production
// must have the document at all.
func checkSessionLogging(v *view) result {
	d := v.sessionDocument()
	if d == nil {
		return failed("no Session Manager document (AWS::SSM::Document of type Session) in " + v.prod)
	}
	const in = "Content.inputs"
	e := []Evidence{ev(d, "Name", d.Properties["Name"])}
	if lg := d.Resolve(in + ".cloudWatchLogGroupName"); lg != nil {
		e = append(e, ev(d, in+".cloudWatchLogGroupName", cfn.Str(lg.Properties["LogGroupName"])))
		if key := v.kmsKeyOf(lg.Stack, lg.Properties["KmsKeyId"]); key != nil {
			e = append(e, ev(lg, "KmsKeyId", key.ID))
		}
	}
	e = append(e, ev(d, in+".cloudWatchEncryptionEnabled", d.Prop(in+".cloudWatchEncryptionEnabled")))
	if k := d.Resolve(in + ".kmsKeyId"); k != nil {
		e = append(e, ev(d, in+".kmsKeyId", "session data encrypted with "+k.ID))
	}
	return passed(fmt.Sprintf("Session Manager sessions started with the %s document are streamed to an encrypted log group", cfn.Str(d.Properties["Name"])), e...)
}

// checkSessionIdle: sessions end when idle (ISE 1.4; RE-RND-008 judges the
// timeout).
func checkSessionIdle(v *view) result {
	d := v.sessionDocument()
	if d == nil {
		return failed("no Session Manager document in " + v.prod)
	}
	idle := d.Prop("Content.inputs.idleSessionTimeout")
	return passed(fmt.Sprintf("Session Manager sessions end after %s idle minutes", cfn.Compact(idle)), ev(d, "Content.inputs.idleSessionTimeout", idle))
}
