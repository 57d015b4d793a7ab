package evidence

import (
	"fmt"
	"net/netip"
	"strings"
)

// Compute checks: ISE 4.1, 4.2, 10.5, 10.8, 10.9.

// withTemplates runs fn over every launch template and fails when there is
// none: every compute check needs at least one.
func withTemplates(v *view, fn func(lt *resource, problems *[]string, e *[]Evidence)) ([]string, []Evidence, bool) {
	lts := v.launchTemplates()
	if len(lts) == 0 {
		return []string{"no AWS::EC2::LaunchTemplate in " + v.prod}, nil, false
	}
	var problems []string
	var e []Evidence
	for _, lt := range lts {
		fn(lt, &problems, &e)
	}
	return problems, e, true
}

// checkNoKeyPair: no launch template installs an EC2 key pair (ISE 4.1).
func checkNoKeyPair(v *view) result {
	problems, e, _ := withTemplates(v, func(lt *resource, problems *[]string, e *[]Evidence) {
		if k := lt.prop("LaunchTemplateData.KeyName"); k != nil {
			*problems = append(*problems, fmt.Sprintf("%s sets LaunchTemplateData.KeyName %s", cite(lt), compact(k)))
			return
		}
		*e = append(*e, ev(lt, "LaunchTemplateData.KeyName", "not set"))
	})
	return verdict(fmt.Sprintf("%s install no key pair", count(len(v.launchTemplates()), "launch template", "launch templates")), problems, e)
}

// checkSessionManagerRole: render nodes run as a role that Session Manager
// can reach them through (ISE 4.1).
func checkSessionManagerRole(v *view) result {
	problems, e, _ := withTemplates(v, func(lt *resource, problems *[]string, e *[]Evidence) {
		roles := v.instanceRoles()[lt]
		if len(roles) == 0 {
			*problems = append(*problems, cite(lt)+" has no instance profile with a role of the stack")
			return
		}
		for _, role := range roles {
			ok := false
			for _, n := range managedPolicyNames(role) {
				if n == "AmazonSSMManagedInstanceCore" {
					ok = true
				}
			}
			if !ok {
				*problems = append(*problems, fmt.Sprintf("%s, the role of %s, does not attach AmazonSSMManagedInstanceCore", cite(role), lt.ID))
				continue
			}
			*e = append(*e, ev(role, "ManagedPolicyArns", "AmazonSSMManagedInstanceCore"))
			if role.Props["PermissionsBoundary"] != nil {
				*e = append(*e, ev(role, "PermissionsBoundary", refID(role.Props["PermissionsBoundary"])))
			}
		}
	})
	return verdict("every launch template's instance role attaches AmazonSSMManagedInstanceCore, so nodes are reached through Session Manager", problems, e)
}

// Remote administration ports that must never be open.
var adminPorts = map[float64]string{22: "SSH", 3389: "RDP"}

// checkNoAdminPorts: no security group rule admits SSH or RDP (ISE 4.1).
func checkNoAdminPorts(v *view) result {
	var problems []string
	n := 0
	for _, r := range rules(v.sgStacks(), false) {
		n++
		for port, name := range adminPorts {
			if r.covers(port) {
				problems = append(problems, fmt.Sprintf("%s: %s admits %s (%s)", cite(r.res), r.prop, name, r.text()))
			}
		}
	}
	var e []Evidence
	for _, sg := range v.renderGroups() {
		e = append(e, ev(sg, "SecurityGroupIngress", fmt.Sprintf("%s; no port 22 or 3389", count(len(asList(sg.Props["SecurityGroupIngress"])), "rule", "rules"))))
	}
	return verdict(fmt.Sprintf("none of the %s of the production, its pool and its link admits port 22 or 3389", count(n, "ingress rule", "ingress rules")), problems, e)
}

// checkSsmEndpoints: the VPC reaches Systems Manager privately (ISE 4.1).
func checkSsmEndpoints(v *view) result {
	vpc := v.vpc()
	if vpc == nil {
		return failed("no VPC found for " + v.prod)
	}
	want := []string{"ssm", "ssmmessages", "ec2messages"}
	found := map[string]*resource{}
	for _, ep := range v.t(vpc.Stack).ofType("AWS::EC2::VPCEndpoint") {
		svc := flatten(ep.Props["ServiceName"])
		for _, w := range want {
			if strings.HasSuffix(svc, "."+w) && truthy(ep.Props["PrivateDnsEnabled"]) {
				found[w] = ep
			}
		}
	}
	var problems []string
	var e []Evidence
	for _, w := range want {
		if found[w] == nil {
			problems = append(problems, fmt.Sprintf("%s has no interface endpoint with private DNS for %s", vpc.Stack, w))
			continue
		}
		e = append(e, ev(found[w], "ServiceName", flatten(found[w].Props["ServiceName"])))
	}
	return verdict("interface endpoints for ssm, ssmmessages and ec2messages, with private DNS, let Session Manager work without internet access", problems, e)
}

// sessionDocument is the production's Session Manager preferences document.
func (v *view) sessionDocument() *resource {
	for _, d := range v.t(v.prod).ofType("AWS::SSM::Document") {
		if str(d.Props["DocumentType"]) == "Session" {
			return d
		}
	}
	return nil
}

// checkSessionLogging: sessions are streamed to an encrypted log group.
func checkSessionLogging(v *view) result {
	d := v.sessionDocument()
	if d == nil {
		return failed("no Session Manager document (AWS::SSM::Document of type Session) in " + v.prod)
	}
	inputs := asMap(d.prop("Content.inputs"))
	var problems []string
	e := []Evidence{ev(d, "Name", d.Props["Name"])}
	if inputs["cloudWatchLogGroupName"] == nil {
		// cloudWatchStreamingEnabled alone names no group: nothing is logged.
		problems = append(problems, cite(d)+" sends sessions to no log group (Content.inputs.cloudWatchLogGroupName is not set)")
	} else {
		lg := v.resolve(d.Stack, inputs["cloudWatchLogGroupName"])
		switch {
		case lg == nil:
			problems = append(problems, cite(d)+": its log group is not a log group of the stack")
		case v.kmsKeyOf(lg.Stack, lg.Props["KmsKeyId"]) == nil:
			problems = append(problems, cite(lg)+" holds session logs without a customer-managed key")
		default:
			e = append(e, ev(d, "Content.inputs.cloudWatchLogGroupName", str(lg.Props["LogGroupName"])), ev(lg, "KmsKeyId", v.kmsKeyOf(lg.Stack, lg.Props["KmsKeyId"]).ID))
		}
	}
	if !truthy(inputs["cloudWatchEncryptionEnabled"]) {
		problems = append(problems, cite(d)+": Content.inputs.cloudWatchEncryptionEnabled is not true")
	} else {
		e = append(e, ev(d, "Content.inputs.cloudWatchEncryptionEnabled", true))
	}
	if inputs["kmsKeyId"] != nil {
		e = append(e, ev(d, "Content.inputs.kmsKeyId", "session data encrypted with "+refID(inputs["kmsKeyId"])))
	}
	return verdict(fmt.Sprintf("Session Manager sessions started with the %s document are streamed to an encrypted log group", str(d.Props["Name"])), problems, e)
}

// checkSessionIdle: sessions end when idle (ISE 1.4).
func checkSessionIdle(v *view) result {
	d := v.sessionDocument()
	if d == nil {
		return failed("no Session Manager document in " + v.prod)
	}
	idle, ok := num(d.prop("Content.inputs.idleSessionTimeout"))
	if !ok {
		return failed(cite(d) + " sets no idleSessionTimeout (Session Manager's default is 20 minutes)")
	}
	if idle > 30 {
		return failed(fmt.Sprintf("%s lets sessions idle for %v minutes", cite(d), idle))
	}
	return passed(fmt.Sprintf("Session Manager sessions end after %v idle minutes", idle), ev(d, "Content.inputs.idleSessionTimeout", fmt.Sprintf("%v", idle)))
}

// checkImdsV2: instance metadata needs session tokens, and the token
// response goes no further than the node itself (ISE 4.2, 10.8).
func checkImdsV2(v *view) result {
	problems, e, _ := withTemplates(v, func(lt *resource, problems *[]string, e *[]Evidence) {
		if str(lt.prop("LaunchTemplateData.MetadataOptions.HttpTokens")) != "required" {
			*problems = append(*problems, cite(lt)+": LaunchTemplateData.MetadataOptions.HttpTokens is not required")
			return
		}
		*e = append(*e, ev(lt, "LaunchTemplateData.MetadataOptions.HttpTokens", "required"))
		// Tokens alone are not enough: with a hop limit above 1 a container
		// on the node (one network hop further) gets a token too, and with
		// it the render role's credentials. Unset, the image decides (2 for
		// images registered for IMDSv2), so renderenv sets 1.
		const hop = "LaunchTemplateData.MetadataOptions.HttpPutResponseHopLimit"
		if n, ok := num(lt.prop(hop)); !ok || n > 1 {
			got := "not set"
			if ok {
				got = str(n)
			}
			*problems = append(*problems, fmt.Sprintf("%s: %s is %s, not 1, so containers on the node can take its credentials", cite(lt), hop, got))
			return
		}
		*e = append(*e, ev(lt, hop, 1))
	})
	return verdict("every launch template requires IMDSv2 with a hop limit of 1", problems, e)
}

// checkImage: nodes boot the studio's image, named by an SSM parameter
// resolved at deploy time or a pinned AMI id (ISE 4.2, 10.8).
func checkImage(v *view) result {
	problems, e, _ := withTemplates(v, func(lt *resource, problems *[]string, e *[]Evidence) {
		img := lt.prop("LaunchTemplateData.ImageId")
		if s, ok := img.(string); ok && strings.HasPrefix(s, "ami-") {
			*e = append(*e, ev(lt, "LaunchTemplateData.ImageId", s))
			return
		}
		id := refID(img)
		p := v.t(lt.Stack).Parameters[id]
		if p == nil {
			*problems = append(*problems, cite(lt)+" boots no pinned image (LaunchTemplateData.ImageId is "+compact(img)+")")
			return
		}
		*e = append(*e, ev(lt, "LaunchTemplateData.ImageId", "SSM parameter "+str(p["Default"])))
	})
	return verdict("every launch template boots the studio's image: an AMI id or an SSM parameter the studio's image pipeline publishes", problems, e)
}

// checkVolumesEncrypted: every volume is encrypted with a customer-managed
// key of the production or its pool (ISE 4.2, 9.1).
func checkVolumesEncrypted(v *view) result {
	problems, e, _ := withTemplates(v, func(lt *resource, problems *[]string, e *[]Evidence) {
		bdms := asList(lt.prop("LaunchTemplateData.BlockDeviceMappings"))
		if len(bdms) == 0 {
			*problems = append(*problems, cite(lt)+" declares no block devices, so the image decides their encryption")
		}
		for i, b := range bdms {
			ebs := asMap(asMap(b)["Ebs"])
			if ebs == nil {
				continue
			}
			p := fmt.Sprintf("LaunchTemplateData.BlockDeviceMappings[%d].Ebs", i)
			key := v.kmsKeyOf(lt.Stack, ebs["KmsKeyId"])
			switch {
			case !truthy(ebs["Encrypted"]):
				*problems = append(*problems, fmt.Sprintf("%s: %s.Encrypted is not true", cite(lt), p))
			case key == nil:
				*problems = append(*problems, fmt.Sprintf("%s: %s.KmsKeyId is not a customer-managed key of the estate", cite(lt), p))
			case key.Stack != v.prod && key.Stack != v.pool:
				// A key of the estate is not enough: another production's
				// key (or the audit key) would let its users read this one's
				// volumes.
				*problems = append(*problems, fmt.Sprintf("%s: %s.KmsKeyId is %s, a key of neither %s nor its pool", cite(lt), p, cite(key), v.prod))
			default:
				*e = append(*e, ev(lt, p+".KmsKeyId", fmt.Sprintf("%s / %s, for %s", key.Stack, key.ID, str(asMap(b)["DeviceName"]))))
			}
		}
	})
	return verdict("every volume of every launch template is encrypted with a customer-managed key of the production or its pool", problems, e)
}

// checkDeleteOnTermination: no volume outlives its render node (ISE 10.9).
func checkDeleteOnTermination(v *view) result {
	problems, e, _ := withTemplates(v, func(lt *resource, problems *[]string, e *[]Evidence) {
		for i, b := range asList(lt.prop("LaunchTemplateData.BlockDeviceMappings")) {
			ebs := asMap(asMap(b)["Ebs"])
			if ebs == nil {
				continue
			}
			p := fmt.Sprintf("LaunchTemplateData.BlockDeviceMappings[%d].Ebs.DeleteOnTermination", i)
			if !truthy(ebs["DeleteOnTermination"]) {
				*problems = append(*problems, fmt.Sprintf("%s: %s is not true (%s)", cite(lt), p, str(asMap(b)["DeviceName"])))
				continue
			}
			*e = append(*e, ev(lt, p, fmt.Sprintf("true (%s, %s GiB)", str(asMap(b)["DeviceName"]), str(ebs["VolumeSize"]))))
		}
	})
	return verdict("every EBS volume of every launch template is deleted when its node terminates", problems, e)
}

// checkNodesTerminate: a node that stops, hibernates or is interrupted does
// not keep its volumes: spot interruption terminates, hibernation is off and
// a shutdown from inside the node terminates it (ISE 10.9).
func checkNodesTerminate(v *view) result {
	problems, e, _ := withTemplates(v, func(lt *resource, problems *[]string, e *[]Evidence) {
		if truthy(lt.prop("LaunchTemplateData.HibernationOptions.Configured")) {
			*problems = append(*problems, cite(lt)+" enables hibernation, which keeps memory and volumes")
		}
		oneTimeSpot := false
		if str(lt.prop("LaunchTemplateData.InstanceMarketOptions.MarketType")) == "spot" {
			b := str(lt.prop("LaunchTemplateData.InstanceMarketOptions.SpotOptions.InstanceInterruptionBehavior"))
			if b != "" && b != "terminate" {
				*problems = append(*problems, fmt.Sprintf("%s: spot interruption %ss the node, keeping its volumes", cite(lt), b))
			} else {
				*e = append(*e, ev(lt, "LaunchTemplateData.InstanceMarketOptions.SpotOptions.InstanceInterruptionBehavior", "terminate"))
			}
			t := str(lt.prop("LaunchTemplateData.InstanceMarketOptions.SpotOptions.SpotInstanceType"))
			oneTimeSpot = t == "" || t == "one-time"
		}
		s := str(lt.prop("LaunchTemplateData.InstanceInitiatedShutdownBehavior"))
		switch {
		case s == "terminate":
			*e = append(*e, ev(lt, "LaunchTemplateData.InstanceInitiatedShutdownBehavior", "terminate"))
		case oneTimeSpot && s == "":
			// EC2 cannot stop an instance of a one-time Spot request.
			*e = append(*e, ev(lt, "LaunchTemplateData.InstanceMarketOptions.SpotOptions.SpotInstanceType", "one-time: EC2 never stops these nodes"))
		default:
			if s == "" {
				s = "stop (the default)"
			}
			*problems = append(*problems, fmt.Sprintf("%s: LaunchTemplateData.InstanceInitiatedShutdownBehavior is %s, so a node that shuts itself down is stopped and keeps its volumes until someone terminates it", cite(lt), s))
		}
	})
	return verdict("render nodes terminate rather than stop, on spot interruption and on a shutdown from inside, and none hibernates, so no volume outlives its node", problems, e)
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
	allowed := map[float64]bool{}
	for _, p := range v.studio.Scheduler.Ports {
		allowed[float64(p)] = true
	}
	for _, l := range v.studio.LicenseServers {
		allowed[float64(l.Port)] = true
	}
	var own netip.Prefix
	if vpc := v.vpc(); vpc != nil {
		own, _ = netip.ParsePrefix(str(vpc.Props["CidrBlock"]))
	}
	var problems []string
	var e []Evidence
	inGroup := map[*resource]bool{}
	for _, g := range groups {
		inGroup[g] = true
	}
	for _, r := range rules(v.own(), true) {
		if !inGroup[r.res] && !(r.res.Type == "AWS::EC2::SecurityGroupEgress" && inGroup[v.resolve(r.res.Stack, r.res.Props["GroupId"])]) {
			continue
		}
		destText := v.literal(r.res.Stack, r.m["CidrIp"])
		dest, err := netip.ParsePrefix(destText)
		if err == nil && str(r.m["CidrIp"]) == "" {
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
			from, _ := num(r.m["FromPort"])
			to, _ := num(r.m["ToPort"])
			if from != to || !allowed[from] || str(r.m["IpProtocol"]) == "-1" {
				problems = append(problems, fmt.Sprintf("%s: %s opens %s to management, beyond the scheduler and license ports", cite(r.res), r.prop, r.text()))
			} else {
				e = append(e, ev(r.res, r.prop, r.text()+" ("+str(r.m["Description"])+")"))
			}
		case own.IsValid() && own.Contains(dest.Addr()) && dest.Bits() >= own.Bits():
			e = append(e, ev(r.res, r.prop, r.text()+" ("+str(r.m["Description"])+")"))
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
	cidr := str(vpc.Props["CidrBlock"])
	allowed := map[float64]bool{}
	for _, p := range v.studio.Scheduler.Ports {
		allowed[float64(p)] = true
	}
	for _, l := range v.studio.LicenseServers {
		allowed[float64(l.Port)] = true
	}
	link := v.t(v.link)
	ing := link.ofType("AWS::EC2::SecurityGroupIngress")
	if len(ing) == 0 {
		return failed(v.link + " opens nothing to the production: the scheduler cannot be reached")
	}
	var problems []string
	var e []Evidence
	for _, r := range ing {
		rule := sgRule{r, "rule", r.Props}
		g := v.resolve(r.Stack, r.Props["GroupId"])
		from, _ := num(r.Props["FromPort"])
		to, _ := num(r.Props["ToPort"])
		switch {
		case str(r.Props["CidrIp"]) != cidr:
			problems = append(problems, fmt.Sprintf("%s admits %s, not the production's range %s", cite(r), rule.text(), cidr))
		case from != to || !allowed[from]:
			problems = append(problems, fmt.Sprintf("%s admits %s, not a scheduler or license port", cite(r), rule.text()))
		case g == nil:
			problems = append(problems, cite(r)+": its group is not a group of "+v.network)
		default:
			e = append(e, ev(r, "CidrIp", fmt.Sprintf("%s to %s / %s", rule.text(), g.Stack, g.ID)))
		}
	}
	return verdict(fmt.Sprintf("%s admits %s only to the scheduler and license groups, only on their ports", v.link, cidr), problems, e)
}
