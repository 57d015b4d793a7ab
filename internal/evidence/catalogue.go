package evidence

import (
	"fmt"
	"strings"

	"github.com/renderenv/renderenv/internal/cfn"
)

// The catalogue: every control of the ISE checklist, in order, with the
// checks that decide its status and what the studio must do beyond the
// templates. The rules behind each control are not listed here: each rule
// of internal/rules names the controls it serves (see controlRules), and a
// check names the rules that judge its claim. Titles and guidance are renderenv's own summaries; the control
// numbers are the checklist's.

const (
	areaConsole  = "AWS Management Console"
	areaNetwork  = "Networking"
	areaCLI      = "Command line"
	areaCompute  = "Compute"
	areaStorage  = "Storage"
	areaBatch    = "AWS Batch"
	areaAccess   = "Role-based access control"
	areaMonitor  = "Monitoring"
	areaKeys     = "Key management (KMS)"
	areaDeadline = "Render scheduler (Deadline)"
)

// Checks shared by several controls.
var (
	ckAccount          = check{"the production's account is its own", checkAccount, nil}
	ckTrust            = check{"roles trust only the management account", checkTrust, nil}
	ckTags             = check{"every taggable resource carries the ISE 1.2 tags", checkTags, nil}
	ckSourceIP         = check{"people's roles require the studio's source ranges", checkHumanSourceIp, nil}
	ckSessionLength    = check{"people's sessions last an hour at most", checkHumanSessionLength, nil}
	ckSessionIdle      = check{"Session Manager sessions time out when idle", checkSessionIdle, []string{"RE-RND-008"}}
	ckMfa              = check{"people's roles require MFA", checkHumanMfa, nil}
	ckPeople           = check{"people's roles trust only the principals the manifests name", checkHumanPrincipals, nil}
	ckMfaAlarm         = check{"console sign-ins without MFA raise an alarm", checkMfaAlarm, nil}
	ckRootAlarm        = check{"use of the root user raises an alarm", checkRootAlarm, nil}
	ckGenerated        = check{"the stacks are generated from the manifests", checkGenerated, nil}
	ckDeployAuthority  = check{"operating roles cannot deploy or change infrastructure", checkDeployAuthority, nil}
	ckOpenIngress      = check{"no security group admits traffic from anywhere", checkNoOpenIngress, []string{"RE-NET-007"}}
	ckEgress           = check{"security groups restrict egress", checkRestrictedEgress, nil}
	ckDefaultSG        = check{"the VPC's default security group is emptied", checkDefaultGroupClosed, []string{"RE-NET-010"}}
	ckNoDefaultSGUse   = check{"nothing uses the default security group", checkNoDefaultGroupUse, []string{"RE-NET-011"}}
	ckNoInternet       = check{"the production network has no internet path", checkNoInternet, []string{"RE-NET-001", "RE-NET-002", "RE-NET-003"}}
	ckDNSFirewall      = check{"DNS resolves only the names the production needs", checkDNSFirewall, []string{"RE-NET-014"}}
	ckDNSQueryLogs     = check{"DNS queries are logged, encrypted", checkDNSQueryLogs, []string{"RE-NET-015"}}
	ckNoPublicIP       = check{"render nodes get no public address", checkNoPublicAddress, []string{"RE-RND-002"}}
	ckTransit          = check{"the Transit Gateway reaches only management and on-premises", checkTransitIsolation, []string{"RE-NET-005", "RE-NET-006"}}
	ckMgmtEgress       = check{"internet egress only from the management front end", checkManagementEgress, []string{"RE-NET-004"}}
	ckTiers            = check{"the production VPC is tiered, with no public tier", checkTiers, nil}
	ckMgmtTiers        = check{"the management VPC is tiered", checkManagementTiers, nil}
	ckOwnVpc           = check{"the production has a VPC of its own", checkOwnVpc, nil}
	ckAclPeers         = check{"network ACLs deny every other production", checkAclDeniesPeers, nil}
	ckAclOrder         = check{"RFC 1918 ranges are denied after the allows", checkAclOrder, nil}
	ckVpnCrypto        = check{"VPN tunnels pin current IPsec algorithms", checkVpnCrypto, []string{"RE-NET-009"}}
	ckVpn              = check{"an IPsec VPN carries on-premises traffic", checkVpnPresent, nil}
	ckNoKeys           = check{"no IAM users or access keys", checkNoLongLivedKeys, nil}
	ckNoKeyPair        = check{"launch templates install no key pair", checkNoKeyPair, []string{"RE-RND-003"}}
	ckSsmRole          = check{"render nodes run with the Session Manager policy", checkSessionManagerRole, nil}
	ckNoAdminPorts     = check{"no SSH or RDP ingress", checkNoAdminPorts, []string{"RE-NET-008"}}
	ckSsmEndpoints     = check{"Session Manager is reachable privately", checkSsmEndpoints, []string{"RE-NET-012"}}
	ckSessionLogs      = check{"sessions are logged, encrypted", checkSessionLogging, []string{"RE-RND-008"}}
	ckImds             = check{"instance metadata requires IMDSv2", checkImdsV2, []string{"RE-RND-001"}}
	ckImage            = check{"nodes boot the studio's image", checkImage, []string{"RE-RND-007"}}
	ckVolumesEncrypted = check{"volumes are encrypted with customer-managed keys", checkVolumesEncrypted, []string{"RE-RND-004"}}
	ckBucketLocked     = check{"the asset bucket blocks public access", checkBucketLockedDown, []string{"RE-STO-001"}}
	ckBucketTLS        = check{"the asset bucket refuses plain HTTP", checkBucketTLS, []string{"RE-STO-002"}}
	ckBucketEndpoint   = check{"the asset bucket refuses foreign networks", checkBucketEndpoint, []string{"RE-STO-005"}}
	ckBucketGrants     = check{"only the production's data roles may use the asset bucket", checkBucketGrants, nil}
	ckBucketEncryption = check{"the asset bucket encrypts with the content-asset key", checkBucketEncryption, []string{"RE-STO-003", "RE-STO-004"}}
	ckDataEvents       = check{"a trail records the asset bucket's object activity", checkDataEvents, nil}
	ckAccessLogs       = check{"the asset bucket writes server access logs", checkAccessLogs, nil}
	ckBucketAlarm      = check{"bucket policy changes raise an alarm", checkBucketPolicyAlarm, nil}
	ckTrail            = check{"a multi-region, validated, encrypted trail records the account", checkTrail, []string{"RE-AUD-001", "RE-AUD-002"}}
	ckFlowLogs         = check{"VPC flow logs record all traffic, encrypted", checkFlowLogs, []string{"RE-AUD-003"}}
	ckFlowLogCopy      = check{"VPC flow logs are copied to the log-archive account", checkFlowLogCopy, []string{"RE-AUD-006"}}
	ckSessionLogCopy   = check{"sessions are copied to the log-archive account", checkSessionCopy, []string{"RE-RND-009"}}
	ckLogGroups        = check{"log groups are encrypted and retained", checkLogGroupsEncrypted, []string{"RE-AUD-004"}}
	ckAlarms           = check{"security metric filters raise alarms to an encrypted topic", checkAlarmsDelivered, []string{"RE-AUD-005"}}
	ckDedicatedKeys    = check{"the production's data is encrypted with its own keys", checkDedicatedKeys, nil}
	ckKeysByPurpose    = check{"one key per purpose", checkKeysByPurpose, nil}
	ckKeyPolicies      = check{"key policies bound administration and use", checkKeyPolicies, []string{"RE-KEY-003", "RE-KEY-004"}}
	ckSeparation       = check{"no principal both administers and uses keys", checkAdminUseSeparated, []string{"RE-KEY-005", "RE-IAM-001"}}
	ckMgmtEvents       = check{"the trail records KMS management events", checkManagementEvents, nil}
	ckTrailKey         = check{"audit logs use a key of their own", checkTrailKeySeparate, nil}
	ckKmsAlarm         = check{"key disables, deletions and policy changes raise an alarm", checkKmsAlarm, nil}
	ckRotation         = check{"every key rotates yearly", checkKeyRotation, []string{"RE-KEY-001"}}
	ckLauncher         = check{"the scheduler's launcher role is bound to this production", checkLauncher, nil}
	ckBoundary         = check{"the render role has a permissions boundary", checkBoundaries, []string{"RE-IAM-004"}}
	ckNoAdminGrants    = check{"no role holds administrator-wide grants", checkNoAdminGrants, []string{"RE-IAM-002"}}
	ckRenderEgress     = check{"render nodes reach management only on scheduler and license ports", checkRenderEgress, nil}
	ckLinkIngress      = check{"management admits the production only on scheduler and license ports", checkLinkIngress, nil}
	ckSchedulerPorts   = check{"render nodes and the scheduler meet only on the scheduler's ports", checkSchedulerPorts, nil}
	ckDeleteVolumes    = check{"volumes are deleted with their node", checkDeleteOnTermination, []string{"RE-RND-005"}}
	ckNodesTerminate   = check{"nodes terminate rather than stop", checkNodesTerminate, []string{"RE-RND-006"}}
	ckRenderLogs       = check{"render nodes have an encrypted log group", checkRenderLogs, nil}
	ckBatch            = check{"AWS Batch is not deployed", checkBatchUnused, nil}
)

// batch builds the definition of an AWS Batch control: none applies while
// the estate does not use AWS Batch.
func batch(id, title, guidance string) definition {
	return definition{
		id: id, area: areaBatch, title: title, scope: scopeStudio,
		how:    "renderenv does not use AWS Batch: render nodes are EC2 instances launched from the production's launch templates by the studio's scheduler.",
		checks: []check{ckBatch},
		studio: []string{"Nothing while the studio does not use AWS Batch. If it adopts Batch for rendering: " + guidance},
	}
}

var catalogue = []definition{
	{
		id: "1.1", area: areaConsole, title: "Separate AWS account per production", scope: scopeTemplates,
		how:    "Each production is its own stack in the account its manifest names; Tier 1 (or isolation.dedicatedAccount) accounts hold no other production, and people and the scheduler get in only by assuming the production's roles from the management account.",
		checks: []check{ckAccount, ckTrust},
		studio: []string{
			"Create the production's account as a member of an AWS Organizations organizational unit for render productions, and attach service control policies that deny leaving the organization, stopping CloudTrail and using regions other than the studio's.",
			"Create no IAM users in the production account: people sign in to the management account through the studio's identity provider and assume the production's roles.",
		},
		studioFor: func(v *view) []string {
			var sharers []string
			for _, o := range v.others() {
				if o.Account == v.r.Account {
					sharers = append(sharers, o.Name)
				}
			}
			if len(sharers) == 0 {
				return nil
			}
			return []string{fmt.Sprintf("Record the content owner's agreement that %s shares account %s with %s, or give it an account of its own (isolation.dedicatedAccount: true).", v.r.Name, v.r.Account, strings.Join(sharers, ", "))}
		},
	},
	{
		id: "1.2", area: areaConsole, title: "Tag resources by production and purpose", scope: scopeTemplates,
		how:    "Every stack and taggable resource carries Studio, Tier, CostCentre and ResourceGroup, and the production's own resources also Production; launch templates tag the nodes and volumes they create.",
		checks: []check{ckTags},
		studio: []string{
			"Activate Studio, Production, Tier, CostCentre and ResourceGroup as cost allocation tags in the organization's management (payer) account.",
			"Create AWS Resource Groups per production and resource group from these tags for day-to-day operations.",
			"Deny changes to the Production and CostCentre tags outside CloudFormation with a service control policy or a tag policy.",
		},
	},
	{
		id: "1.3", area: areaConsole, title: "Restrict access to known locations", scope: scopeShared,
		how:    "Only the people the manifests name can assume the production's people roles, only from adminSourceCidrs, and every call of their sessions must come from those ranges or through the production's VPC, so a stolen session is useless from elsewhere; the templates cannot stop a person holding sessions in two places.",
		checks: []check{ckPeople, ckSourceIP, ckAccessOrigins},
		studio: []string{
			"Enable Amazon GuardDuty in every account (with a delegated administrator) and alert on findings such as UnauthorizedAccess:IAMUser/ConsoleLoginSuccess.B and UnauthorizedAccess:IAMUser/MaliciousIPCaller.",
			"Apply the same source-range condition to the management account's own roles or permission sets, and review adminSourceCidrs when offices or VPN egress addresses change.",
		},
	},
	{
		id: "1.4", area: areaConsole, title: "Time out inactive sessions", scope: scopeShared,
		how:    "People work through short role sessions (one hour at most) and Session Manager sessions end when idle; console inactivity is the identity provider's to enforce.",
		checks: []check{ckSessionLength, ckSessionIdle},
		studio: []string{
			"Set the session length of the identity provider or IAM Identity Center permission sets to the tier's limit and an inactivity timeout at the identity provider.",
			"Do not give people IAM users: their console sessions last 12 hours.",
		},
	},
	{
		id: "1.5", area: areaConsole, title: "Require multi-factor authentication", scope: scopeShared,
		how:    "The production's people roles can be assumed only with MFA, and a console sign-in without MFA anywhere in the organization raises an alarm; MFA itself is set up in the identity provider and on root users.",
		checks: []check{ckMfa, ckMfaAlarm},
		studio: []string{
			"Enable MFA on the root user of every account (a hardware key for the management, log-archive and Tier 1 accounts).",
			"Enforce MFA in the identity provider for everyone who reaches the management account; if any IAM user exists, set an IAM password policy and require MFA for it.",
			"In IAM Identity Center, require MFA every time people sign in: the permission-set sessions the people roles trust carry no MFA key the roles could check.",
			"Keep root passwords and MFA devices in an escrow with audited access, and use root only for the tasks that need it.",
			"Subscribe the security team to the security alarm topic (alerts.emails) so that the alarms reach someone.",
		},
	},
	{
		id: "1.6", area: areaConsole, title: "Deploy every production the same way", scope: scopeTemplates,
		how:    "Every production's network, keys, storage, roles and launch templates are generated from its manifest by the same code, and the roles it creates cannot change infrastructure: only CloudFormation does.",
		checks: []check{ckGenerated, ckDeployAuthority},
		studio: []string{
			"Deploy only with cdk deploy or the renderenv pipeline from reviewed commits, never by hand; use CloudFormation drift detection to find manual changes.",
			"Bootstrap every account with renderenv bootstrap, so that the CDK bootstrap roles (cdk-<qualifier>-*, the studio's own qualifier) trust only the roles studio.yaml names in deployers (and the pipeline's), and keep that list to the platform team.",
		},
	},
	{
		id: "1.7", area: areaConsole, title: "Keep the root user corporate and unused", scope: scopeStudio,
		how:    "Account contact details and root credentials are outside CloudFormation; the central trail raises an alarm whenever the root user acts.",
		checks: []check{ckRootAlarm},
		studio: []string{
			"Set every account's root email address to a corporate distribution list and its phone number to the company's, and set the security, billing and operations alternate contacts.",
			"Create no root access keys; keep root credentials in the escrow process of 1.5 and do daily administration through roles.",
		},
	},
	{
		id: "2.1", area: areaNetwork, title: "Control traffic with security groups", scope: scopeShared,
		how:    "Every instance and endpoint has a purpose-built security group: nothing is open to the internet, egress is listed rule by rule, and render nodes accept no connections.",
		checks: []check{ckOpenIngress, ckEgress, ckNoDefaultSGUse},
		studio: []string{
			"Delete the default VPC in every region of the production account.",
			"Turn on AWS Config rules such as restricted-ssh, vpc-sg-open-only-to-authorized-ports and vpc-default-security-group-closed, and alert on non-compliance.",
			"Change security groups only through the manifests and a deploy; keep a separate network administrator role for emergencies.",
		},
	},
	{
		id: "2.2", area: areaNetwork, title: "Keep appliances in isolated subnets", scope: scopeShared,
		how:    "The production's subnets have no internet path at all, and a DNS Firewall answers every name its endpoints, buckets and the studio's zones do not need with NXDOMAIN, so DNS is no exit either; it reaches management and on-premises only through a Transit Gateway route table that never holds another production's routes; only the management front end (NAT for license servers) touches the internet.",
		checks: []check{ckNoInternet, ckDNSFirewall, ckNoPublicIP, ckTransit, ckMgmtEgress},
		studio: []string{
			"Enable Amazon GuardDuty (with VPC flow log and DNS analysis) in every account and route its findings to the security team.",
			"Put the studio's scheduler and license servers in the management VPC's application tier with the scheduler and license security groups renderenv publishes in SSM Parameter Store.",
		},
	},
	{
		id: "2.3", area: areaNetwork, title: "Tiered VPC architecture", scope: scopeShared,
		how:    "The production VPC has private render, storage, endpoint and transit tiers; the management VPC has front-end, application, data and transit tiers, each with its own network ACL.",
		checks: []check{ckTiers, ckMgmtTiers},
		studio: []string{
			"Place the studio's own instances in the matching tier: caches and file servers in the production's storage tier, the scheduler and license servers in the management application tier, nothing in the front end.",
		},
	},
	{
		id: "2.4", area: areaNetwork, title: "A VPC per production", scope: scopeShared,
		how:    "Each production (except pooled Tier 3 ones, by the tier table) gets a private VPC of its own, with a range that overlaps nothing else and no internet gateway.",
		checks: []check{ckOwnVpc, ckNoInternet},
		studio: []string{
			"Enable Amazon GuardDuty in the production account to watch the VPC for unexpected traffic.",
		},
		studioFor: func(v *view) []string {
			if !v.r.PooledVpc {
				return nil
			}
			return []string{"Record the content owner's agreement that this Tier 3 production runs in the pooled VPC, or give it a VPC of its own (isolation.dedicatedVpc: true)."}
		},
	},
	{
		id: "2.5", area: areaNetwork, title: "Leave the default security group unused", scope: scopeShared,
		how:    "The default security group of the production's VPC is stripped of its rules at deploy time, and every resource names renderenv's own groups.",
		checks: []check{ckDefaultSG, ckNoDefaultSGUse},
		studio: []string{
			"Remove the rules of the default security groups of the account's other VPCs (the default VPC in every region), and keep the AWS Config rule vpc-default-security-group-closed on.",
		},
	},
	{
		id: "2.6", area: areaNetwork, title: "Segment with network ACLs", scope: scopeTemplates,
		how:    "The production's network ACL allows its own VPC, management and on-premises, then denies all three RFC 1918 ranges in both directions, so no other production (present or future) gets through.",
		checks: []check{ckAclPeers, ckAclOrder},
		studio: []string{
			"Keep on-premises firewalls consistent: the studio's network should not route between production ranges either.",
		},
	},
	{
		id: "2.7", area: areaNetwork, title: "No deprecated IPsec cryptography", scope: scopeTemplates,
		how:    "The site-to-site VPN on the Transit Gateway allows only IKEv2, AES-256 (GCM), SHA-2 384/512 and Diffie-Hellman groups 20 and 21 in both phases.",
		checks: []check{ckVpnCrypto},
		studioFor: func(v *view) []string {
			if len(v.vpns()) == 0 {
				return []string{"Document how the studio's link to AWS (Direct Connect, a third-party VPN) meets this control: IKEv2 only, no SHA-1, no Diffie-Hellman groups 1, 2 or 5; or set onPremises.vpn to let renderenv build it."}
			}
			return []string{
				"Configure the customer gateway device with the same proposals and disable IKEv1 on it; take the device configuration from the VPN connection.",
				"Keep the tunnels' pre-shared keys in AWS Secrets Manager and rotate them on a schedule.",
			}
		},
	},
	{
		id: "2.8", area: areaNetwork, title: "IPsec over Direct Connect", scope: scopeShared,
		how:    "renderenv builds the IPsec VPN on the Transit Gateway; Direct Connect is a physical circuit the studio orders.",
		checks: []check{ckVpn},
		studioFor: func(v *view) []string {
			if len(v.vpns()) == 0 {
				return []string{"If the studio uses Direct Connect, run an IPsec VPN over it (a private IP VPN on a transit virtual interface) so content is private and encrypted; renderenv builds that VPN when onPremises.vpn is set."}
			}
			return []string{"Order AWS Direct Connect (a transit virtual interface to a Direct Connect gateway associated with the Transit Gateway) and carry this VPN over it as a private IP VPN, so that traffic is both private and encrypted."}
		},
	},
	{
		id: "3.1", area: areaCLI, title: "No cached CLI credentials", scope: scopeStudio,
		how:    "The templates create no IAM users or access keys, and people's role sessions last an hour at most; how workstations hold credentials is the studio's.",
		checks: []check{ckNoKeys, ckSessionLength},
		studio: []string{
			"Sign the CLI in through IAM Identity Center or the identity provider (aws sso login, credential_process) so it holds only short-lived credentials; keep no access keys in ~/.aws/credentials.",
			"Where an IAM user cannot be avoided, rotate its keys at least every 60 days and at the end of each production, and check the IAM credential report.",
		},
	},
	{
		id: "4.1", area: areaCompute, title: "Access instances without passwords or open SSH", scope: scopeTemplates,
		how:    "Render nodes have no key pair and no SSH or RDP port; administrators reach them through Session Manager over private endpoints, and every session is logged to an encrypted log group and copied to the log-archive account, where the production's administrators cannot delete it.",
		checks: []check{ckNoKeyPair, ckSsmRole, ckNoAdminPorts, ckSsmEndpoints, ckSessionLogs, ckSessionLogCopy},
		studioFor: func(v *view) []string {
			doc := v.prod + "-sessions"
			if d := v.sessionDocument(); d != nil {
				doc = cfn.Str(d.Properties["Name"])
			}
			return []string{
				fmt.Sprintf("Grant ssm:StartSession to named administrators only, only on instances tagged Production=%s, only with the %s document, and from adminSourceCidrs.", v.r.Name, doc),
				"Review session logs and CloudTrail StartSession events regularly.",
			}
		},
	},
	{
		id: "4.2", area: areaCompute, title: "Launch from hardened images", scope: scopeShared,
		how:    "Launch templates boot the image the studio publishes, require IMDSv2 and encrypt every volume with the production's keys; hardening the image is the studio's.",
		checks: []check{ckImage, ckImds, ckVolumesEncrypted},
		studio: []string{
			"Build the render image from a current Amazon Linux base hardened to the CIS benchmark, with the render software installed, and publish its id to the image parameter the launch templates read.",
			"Enable Amazon Inspector for EC2 in the production account and rebuild images when it finds vulnerabilities.",
			"Decide what happens to partial frames when a spot node is interrupted (the scheduler requeues the task).",
		},
		studioFor: func(v *view) []string { return amiNote(v) },
	},
	{
		id: "5.1", area: areaStorage, title: "Dedicated identities for storage access", scope: scopeTemplates,
		how:    "The asset bucket is private, TLS-only and reachable only through the production's VPC endpoint; only the data-operator role (ingest and delivery) and the render role may use it.",
		checks: []check{ckBucketLocked, ckBucketTLS, ckBucketEndpoint, ckBucketGrants, ckNoKeys, ckAccessAssets, ckVendors},
		studio: []string{
			"Decide in the identity provider who may assume the data-operator role: only the staff who ingest and deliver content.",
			"When the studio adds an asset cache (FSx for Lustre, EFS, a parallel file system), encrypt it with the content-asset key and give it its own role.",
		},
	},
	{
		id: "5.2", area: areaStorage, title: "Rotate storage access keys", scope: scopeTemplates,
		how:    "No access key exists to rotate: render nodes use instance-profile credentials from STS and people assume roles.",
		checks: []check{ckNoKeys},
		studio: []string{
			"For tools outside AWS, use IAM Roles Anywhere or the data-operator role through the identity provider rather than access keys; failing that, rotate keys every 60 days.",
		},
	},
	{
		id: "5.3", area: areaStorage, title: "Monitor storage activity", scope: scopeTemplates,
		how:    "The trail records every object read and write in the asset bucket, the bucket writes server access logs, and bucket policy changes raise an alarm.",
		checks: []check{ckDataEvents, ckAccessLogs, ckBucketAlarm, ckExchange},
		studio: []string{
			"Feed the trail bucket to the studio's SIEM and alert on object access by unexpected principals or from unexpected networks.",
			"Enable the AWS Config rules s3-bucket-public-read-prohibited and s3-bucket-public-write-prohibited with automatic remediation.",
		},
		studioFor: func(v *view) []string {
			if v.r.S3DataEvents {
				return nil
			}
			return []string{"Data events are off for this production (audit.s3DataEvents: false); turn them back on if the content owner asks for object-level audit."}
		},
	},
	batch("6.1", "Batch: rotate access keys", "give compute environments an instance role and jobs a job role, like renderenv's render role, and never access keys."),
	batch("6.2", "Batch: tear down compute environments", "create each production's compute environment with the production, in its account, and delete it when the production ends; keep its volumes encrypted with the production's keys."),
	batch("6.3", "Batch: storage per workflow", "give each production's job queue storage of its own, encrypted with its content-asset key and shared with no other production."),
	batch("6.4", "Batch: vetted container images", "build images from the hardened base of 4.2, keep them in the production account's ECR, and allow only approved images in job definitions."),
	batch("6.5", "Batch: verify image integrity", "pin images by digest in job definitions, turn on ECR image scanning and tag immutability, and refuse images whose digest is not on the approved list."),
	batch("6.6", "Batch: hold failing workflows", "set retry strategies and send job state changes through EventBridge to a function that holds the queue and alerts after a repeated failure."),
	batch("6.7", "Batch: log events", "send job logs to an encrypted log group of the production and alarm on failed jobs through EventBridge; the trail already records the Batch API."),
	{
		id: "7.1", area: areaAccess, title: "Custom roles for automated users", scope: scopeTemplates,
		how:    "Automation gets narrow roles: the scheduler's launcher role may launch only this production's templates and pass only its render role; the render role is capped by a permissions boundary; nothing is an IAM user.",
		checks: []check{ckLauncher, ckPeople, ckBoundary, ckNoAdminGrants, ckNoKeys, ckAccessRoles, ckVendors},
		studio: []string{
			"Run the scheduler in the management account with an instance role that may assume only the launcher roles of the productions it serves.",
			"Review role activity each quarter (IAM Access Analyzer unused-access findings) and remove what is unused.",
			"Give artists no AWS identities: they work through the scheduler and the studio's tools.",
		},
	},
	{
		id: "7.2", area: areaAccess, title: "Federate on-premises identities", scope: scopeStudio,
		how:    "renderenv gives each production roles that trust the management account; federation from the studio's directory into that account is the studio's.",
		checks: []check{ckTrust, ckMfa},
		studioFor: func(v *view) []string {
			return []string{
				fmt.Sprintf("Federate the studio's directory into the management account (IAM Identity Center or SAML) and map directory groups to the permission sets that may assume %s-key-admin, %s-data-operator and %s-log-reader.", v.prod, v.prod, v.prod),
				"Review group membership at every production milestone and remove everyone at the production's end.",
			}
		},
	},
	{
		id: "8.1", area: areaMonitor, title: "Log and monitor API calls, traffic and events", scope: scopeShared,
		how:    "A multi-region organization trail in the log-archive account records every API call; the VPC's flow logs record all traffic, with a copy in the log-archive account that nobody can delete before its retention ends, and Resolver query logs every DNS query; every log group is encrypted and retained; security metric filters raise alarms.",
		checks: []check{ckTrail, ckFlowLogs, ckFlowLogCopy, ckDNSQueryLogs, ckLogGroups, ckAlarms},
		studio: []string{
			"Enable Amazon GuardDuty in every account, with the security or log-archive account as delegated administrator.",
			"Enable AWS Config recording and a conformance pack in every account and region, aggregated in the security account.",
			"Subscribe the security team to the alarm topic (alerts.emails) and forward the trail bucket and the log groups to the SIEM.",
		},
	},
	{
		id: "9.1", area: areaKeys, title: "A customer-managed key per production", scope: scopeTemplates,
		how:    "Root volumes, content (asset bucket and scratch volumes) and logs are encrypted with three customer-managed keys of the production; only pooled Tier 3 (and Tier 2's root and logging keys, where a pool exists) share keys, as the tier table allows.",
		checks: []check{ckDedicatedKeys, ckKeysByPurpose, ckVolumesEncrypted},
		studio: []string{
			"If the content owner supplies its own key, grant the data-operator and render roles its use in the owner's key policy and record it with this evidence.",
		},
		studioFor: func(v *view) []string {
			if !v.r.PooledRootKey && !v.r.PooledAssetKey && !v.r.PooledLoggingKey {
				return nil
			}
			return []string{"Record the content owner's agreement to pooled keys for this production, or give it keys of its own (isolation.dedicatedKeys: true)."}
		},
	},
	{
		id: "9.2", area: areaKeys, title: "Control access with KMS permissions", scope: scopeTemplates,
		how:    "Key policies delegate administration to IAM but never use; every use is bound to a service (EC2, S3, CloudWatch Logs) or named roles; the key administrator may manage only the production's aliased keys.",
		checks: []check{ckKeyPolicies, ckAccessKeys},
		studio: []string{
			"Review the grants on the keys periodically (EC2 creates and retires grants for volumes).",
			"For content kept in the content owner's account, use a role in that account with decrypt permission on its key, assumed from the production.",
		},
	},
	{
		id: "9.3", area: areaKeys, title: "Separate key administrators from key users", scope: scopeTemplates,
		how:    "The key-admin role administers keys and cannot use them; the data-operator, render and log-reader roles use keys and cannot administer them.",
		checks: []check{ckSeparation, ckAccessKeyAdmin},
		studio: []string{
			"Map the key-admin role to security staff who do not handle content and the data-operator role to production data staff; never both to one person.",
			"At the production's end remove everyone from the role mappings, then schedule the content key's deletion when the contract allows.",
		},
	},
	{
		id: "9.4", area: areaKeys, title: "Audit key management", scope: scopeTemplates,
		how:    "The trail records every KMS call into an archive encrypted with a separate logging key, and key disables, deletions, rotation changes and policy changes raise an alarm.",
		checks: []check{ckMgmtEvents, ckTrailKey, ckKmsAlarm},
		studio: []string{
			"Subscribe the security team to the alarm topic and review Decrypt activity on the content-asset key in the SIEM.",
		},
	},
	{
		id: "9.5", area: areaKeys, title: "Rotate keys", scope: scopeTemplates,
		how:    "Every customer-managed key has automatic yearly rotation; older key material stays available for decryption.",
		checks: []check{ckRotation},
		studio: []string{
			"Rotate a key on demand (kms:RotateKeyOnDemand, allowed to the key administrator) if it may have been exposed.",
		},
	},
	{
		id: "10.1", area: areaDeadline, title: "Account for the render scheduler", scope: scopeShared,
		how:    "renderenv assumes one scheduler in the management account that launches into each production's account through that production's launcher role; the scheduler itself is the studio's.",
		checks: []check{ckLauncher, ckAccount, ckAccessLaunch},
		studio: []string{
			"Decide, per tier, whether the shared scheduler is acceptable; fully segregated Tier 1 work needs a scheduler (repository and database) of its own in the production's account.",
			"Keep a record of the productions each scheduler serves, and push the scheduler's logs to the log-archive account (10.11).",
		},
	},
	{
		id: "10.2", area: areaDeadline, title: "TLS between clients and repository", scope: scopeStudio,
		how:    "Render nodes can reach the scheduler only on the scheduler ports of studio.yaml; serving them with TLS is the scheduler's configuration.",
		checks: []check{ckSchedulerPorts},
		studio: []string{
			"Serve the repository through Deadline's Remote Connection Server with TLS and client certificates on scheduler.ports; install the client certificate in the render image, readable only by the Deadline user.",
		},
	},
	{
		id: "10.3", area: areaDeadline, title: "Authenticated TLS to the scheduler database", scope: scopeStudio,
		how:    "The database runs on the studio's scheduler; renderenv opens no database port to render nodes, only the scheduler ports.",
		checks: []check{ckSchedulerPorts},
		studio: []string{
			"Enable TLS and authentication on the Deadline database (MongoDB: require TLS, enable authorization) and accept connections only from the Remote Connection Server.",
		},
	},
	{
		id: "10.4", area: areaDeadline, title: "Repository per client or workload", scope: scopeStudio,
		how: "Repositories are the scheduler's; renderenv keeps each production's nodes, roles and storage apart whatever the repository layout.",
		studio: []string{
			"Decide per tier whether a production gets its own repository and database; when one repository serves several productions, use Deadline's user security and group permissions to separate them.",
		},
	},
	{
		id: "10.5", area: areaDeadline, title: "VPC and security groups for scheduler traffic", scope: scopeTemplates,
		how:    "Render nodes live in the production's VPC and reach the management VPC only on the scheduler and license ports, which the link stack opens to the production's range alone; flow logs record the traffic.",
		checks: []check{ckOwnVpc, ckRenderEgress, ckLinkIngress, ckFlowLogs},
		studio: []string{
			"Open on-premises firewalls only for the scheduler's client ports, over the VPN.",
		},
	},
	{
		id: "10.6", area: areaDeadline, title: "Server-side encryption for asset transfer storage", scope: scopeTemplates,
		how:    "The asset bucket encrypts every object with the production's content-asset key and refuses writes that ask for anything else; render nodes may use that key only through S3.",
		checks: []check{ckBucketEncryption, ckBucketTLS, ckBucketEndpoint, ckIngest, ckReplica},
		studio: []string{
			"Point the asset transfer (Deadline's asset transfer, a sync tool or the studio's pipeline) at the production's asset bucket, and encrypt any asset cache with the same key.",
		},
	},
	{
		id: "10.7", area: areaDeadline, title: "Administer from designated machines", scope: scopeShared,
		how:    "Administrators reach render nodes only through Session Manager, from the admin source ranges, with MFA; Deadline Monitor permissions are the scheduler's.",
		checks: []check{ckNoAdminPorts, ckSourceIP, ckMfa},
		studio: []string{
			"Turn on Deadline's enhanced user security and rendering jobs as the submitting user, protect the Monitor super-user password, and allow Monitor administration only from named machines.",
		},
	},
	{
		id: "10.8", area: areaDeadline, title: "Preconfigured render node image", scope: scopeShared,
		how:    "Each render profile's launch template boots the studio's published image with the render role, IMDSv2 and encrypted volumes; baking the Deadline client into it is the studio's.",
		checks: []check{ckImage, ckImds, ckSsmRole},
		studio: []string{
			"Bake the Deadline Worker and the render applications into the hardened image of 4.2.",
		},
		studioFor: func(v *view) []string { return amiNote(v) },
	},
	{
		id: "10.9", area: areaDeadline, title: "Remove render node storage", scope: scopeTemplates,
		how:    "Root and scratch volumes are deleted when a node terminates, and nodes terminate on spot interruption; buckets and keys are kept on purpose and cleaned up at the production's end.",
		checks: []check{ckDeleteVolumes, ckNodesTerminate},
		studio: []string{
			"At the production's end, archive or empty the asset bucket as the contract says, then disable the content-asset key (buckets and keys are retained by design).",
			"Keep render images free of extra EBS volumes that the launch templates do not declare.",
		},
	},
	{
		id: "10.10", area: areaDeadline, title: "Encrypt and restrict remote commands", scope: scopeStudio,
		how:    "Render nodes accept no inbound connections (unless scheduler.workerPorts opens some from management), and every Session Manager session is encrypted and logged; Deadline's remote commands are the scheduler's.",
		checks: []check{ckNoAdminPorts, ckSessionLogs},
		studio: []string{
			"Keep Deadline's remote administration disabled (or allow only a short list of commands), keep the CommandLine and CommandScript plugins disabled, and let only administrators write to the repository's custom folder.",
		},
	},
	{
		id: "10.11", area: areaDeadline, title: "Central scheduler and AWS logging", scope: scopeShared,
		how:    "AWS events of the production go to the organization trail in the log-archive account, and render nodes have an encrypted log group for scheduler logs; shipping the scheduler's own logs is the studio's.",
		checks: []check{ckTrail, ckRenderLogs},
		studioFor: func(v *view) []string {
			group := "/" + v.prod + "/render"
			return []string{
				fmt.Sprintf("Install the CloudWatch agent in the render image to ship Deadline Worker logs to %s.", group),
				"Export repository, job and worker reports to the log-archive account (a Deadline event plugin writing to CloudWatch Logs).",
			}
		},
	},
}

// amiNote names the image parameters the production's launch templates read.
func amiNote(v *view) []string {
	var params []string
	seen := map[string]bool{}
	for _, lt := range v.launchTemplates() {
		if id, attr := cfn.RefID(lt.Prop(ltData + ".ImageId")); attr == "" && lt.Stack.Parameters[id] != nil {
			path := cfn.Str(lt.Stack.Parameters[id].Default)
			if !seen[path] {
				seen[path] = true
				params = append(params, path)
			}
		}
	}
	if len(params) == 0 {
		return nil
	}
	return []string{"Publish the image ids to the SSM parameters the launch templates read at deploy time: " + strings.Join(params, ", ") + "."}
}
