package estate

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"

	"github.com/renderenv/renderenv/internal/inventory"
)

// Suppression accepts a cdk-nag finding on the resources whose construct
// path (below the stack) matches Path, for a stated reason. Every entry is
// listed in the README.
type Suppression struct {
	Path *regexp.Regexp
	Rule string
	// AppliesTo narrows IAM4/IAM5 findings to these policies, actions or
	// resources (regular expressions over cdk-nag's finding ids).
	AppliesTo []string
	Reason    string
}

const lookupReason = "CDK's AwsCustomResource provider: CloudFormation invokes it only during deployment for read-only EC2 look-ups (Transit Gateway, prefix list and attachment ids). It handles no content, must reach the EC2 API of its account, and reports failures to CloudFormation, so it runs outside any VPC without a concurrency limit or dead-letter queue."

const pipelineReason = "Only with pipeline.enabled."

const autoApproveReason = pipelineReason + " CDK Pipelines' permissions-broadening function: the broadening check invokes it to approve its own confirmation when no permission widens, and its role may approve only in this pipeline. It handles no content and must reach the CodePipeline API, so it runs outside any VPC without a concurrency limit or dead-letter queue; a failure fails the check."

const peopleDenyReason = "The people roles' OnlyFromTheStudiosRanges statement denies every action of a session outside adminSourceCidrs (ISE 1.3); the rule reads its Action * without its Effect. Rule RE-IAM-002 still fails any statement that allows every action."

// Suppressions is the reviewed list of accepted findings.
var Suppressions = []Suppression{
	{regexp.MustCompile(`^AWS679f53fac002430cb0da5b7982bd2287/`), "AwsSolutions-IAM4", []string{`^Policy::.*AWSLambdaBasicExecutionRole$`}, lookupReason + " The managed policy only lets it write its own logs."},
	{regexp.MustCompile(`^AWS679f53fac002430cb0da5b7982bd2287/`), "NIST.800.53.R5-LambdaConcurrency", nil, lookupReason},
	{regexp.MustCompile(`^AWS679f53fac002430cb0da5b7982bd2287/`), "NIST.800.53.R5-LambdaDLQ", nil, lookupReason},
	{regexp.MustCompile(`^AWS679f53fac002430cb0da5b7982bd2287/`), "NIST.800.53.R5-LambdaInsideVPC", nil, lookupReason},
	{regexp.MustCompile(`(^|/)(TransitGatewayLookup|S3PrefixListLookup|VpnAttachment)/CustomResourcePolicy/Resource$`), "AwsSolutions-IAM5", []string{`^Resource::\*$`}, "EC2 Describe actions do not support resource-level permissions; the policy allows only the one Describe call of the look-up."},
	{regexp.MustCompile(`^Link/LookupRole/Resource$`), "AwsSolutions-IAM4", []string{`^Policy::.*AWSLambdaBasicExecutionRole$`}, lookupReason + " This is the link stack's look-up role, named so that the production's attachment reader trusts it alone; the managed policy only lets it write its own logs."},
	{regexp.MustCompile(`^SchedulerBoundary/Resource$`), "AwsSolutions-IAM5", []string{`^Resource::\*$`, `^Resource::arn:aws:iam::\*:role/[a-z0-9-]+-\*-launcher$`}, "The scheduler's permissions boundary: the launcher roles it may assume (see the scheduler role), and the Session Manager and SSM Agent calls, which have no resource-level permissions (ISE 4.1, 7.1)."},
	{regexp.MustCompile(`^Scheduler/DefaultPolicy/Resource$`), "AwsSolutions-IAM5", []string{`^Resource::arn:aws:iam::\*:role/[a-z0-9-]+-\*-launcher$`}, "The render scheduler assumes the launcher role of every production, in accounts and under names that productions add over the years; listing them would change the network stack with every production. Each launcher trusts this role by aws:PrincipalArn, and the launchers alone carry what a launch may do (ISE 7.1)."},
	{regexp.MustCompile(`^AttachmentReader/DefaultPolicy/Resource$`), "AwsSolutions-IAM5", []string{`^Resource::\*$`}, "ec2:DescribeTransitGatewayVpcAttachments does not support resource-level permissions; it is the role's only action."},
	{regexp.MustCompile(`^People/DataOperator/DefaultPolicy/Resource$`), "AwsSolutions-IAM5", []string{`^Resource::<Assets.*\.Arn>/\*$`, `^Resource::arn:aws:ec2:.*:instance/\*$`, `^Resource::arn:aws:ssm:.*:session/<aws:userid>-\*$`}, "The data operator works on the objects of its own production's asset bucket, whose names are not known in advance, and the bucket and key policies bound it further (ISE 5.1); it opens sessions only on instances tagged with its production (ssm:resourceTag/Production) and ends only its own sessions (ISE 4.1)."},
	{regexp.MustCompile(`^(People/)?KeyAdmin/DefaultPolicy/Resource$`), "AwsSolutions-IAM5", []string{`^Resource::arn:aws:kms:[a-z0-9-]+:[0-9]{12}:key/\*$`}, "Key ids exist only once keys are created; kms:ResourceAliases limits the statement to the production's (or the pool's) own aliases (ISE 9.2)."},
	{regexp.MustCompile(`^AuditReader/DefaultPolicy/Resource$`), "AwsSolutions-IAM5", []string{`^Resource::<AuditTrailBucket.*\.Arn>/\*$`}, "The audit reader reads every log file of the central trail, whose object names CloudTrail makes at delivery; it may only read (ISE 8.1)."},
	{regexp.MustCompile(`^People/LogReader/DefaultPolicy/Resource$`), "AwsSolutions-IAM5", []string{`^Resource::arn:aws:logs:.*:log-group:/.*/\*$`}, "The log reader reads the production's log groups, named under the production's prefix (ISE 8.1)."},
	{regexp.MustCompile(`^Render/Launcher/DefaultPolicy/Resource$`), "AwsSolutions-IAM5", []string{`^Resource::\*$`, `^Resource::arn:aws:ec2:.*:\*/\*$`, `^Resource::arn:aws:ec2:.*:instance/\*$`}, "Instances, volumes and interfaces a launch creates have no ids beforehand: launches are bound by the ec2:LaunchTemplate condition to the production's templates, tagging to launch time with the production tag, termination to instances carrying it; Describe actions have no resource-level permissions (ISE 7.1)."},
	{regexp.MustCompile(`^Render/(RenderBoundary|Role)/Resource$`), "AwsSolutions-IAM5", []string{`^Resource::\*$`, `^Resource::<Assets.*\.Arn>/\*$`, `^Resource::<Render.*Logs.*\.Arn>:\*$`, `^Resource::arn:aws:logs:.*:log-group:\*$`}, "SSM Agent and Session Manager calls have no resource-level permissions, and the agent lists log groups to check that the session log group is encrypted; log streams and objects are created at run time inside the production's own log groups and bucket (ISE 4.1)."},
	{regexp.MustCompile(`^Render/(RenderBoundary|Role)/Resource$`), "AwsSolutions-IAM5", []string{`^Resource::arn:aws:s3:::[a-z0-9-]+-audit-archive-[0-9]{12}-[a-z0-9-]+/sessions/[0-9]{12}/[a-z0-9-]+/\*$`, `^Resource::arn:aws:kms:[a-z0-9-]+:[0-9]{12}:key/\*$`}, "Render nodes archive each session in the log-archive account as it ends, under a file name SSM Agent makes then, inside their own production's prefix only; the log-archive logging key's id is not known in a production's stack, so kms:ResourceAliases names it, kms:ViaService keeps it to S3 and the encryption context to the archive bucket (ISE 4.1, 8.1)."},
	{regexp.MustCompile(`^Render/Role/Resource$`), "AwsSolutions-IAM4", []string{`^Policy::.*AmazonSSMManagedInstanceCore$`}, "ISE 4.1: Session Manager is the only way onto a render node; the permissions boundary caps this AWS-managed policy."},
	{regexp.MustCompile(`^((People/)?(KeyAdmin|DataOperator|LogReader)|AuditReader)/DefaultPolicy/Resource$`), "NIST.800.53.R5-IAMPolicyNoStatementsWithAdminAccess", nil, peopleDenyReason},
	{regexp.MustCompile(`^((People/)?(KeyAdmin|DataOperator|LogReader)|AuditReader)/DefaultPolicy/Resource$`), "NIST.800.53.R5-IAMPolicyNoStatementsWithFullAccess", nil, peopleDenyReason},
	{regexp.MustCompile(`.`), "NIST.800.53.R5-IAMNoInlinePolicy", nil, "CDK gives each role its statements as an inline policy that is deployed and deleted with the role; no policy is shared between roles, and every statement is reviewed in the templates and snapshot tests."},
	{regexp.MustCompile(`^(Assets|AccessLogs|Audit/TrailBucket|Audit/AccessLogs|Pipeline/Pipeline/ArtifactsBucket)/Resource$`), "NIST.800.53.R5-S3BucketReplicationEnabled", nil, "Content owners decide whether and where copies of their content may exist; buckets are versioned and retained, and a studio adds replication where its continuity policy allows."},
	{regexp.MustCompile(`^Audit/ArchiveBucket/Resource$`), "NIST.800.53.R5-S3BucketReplicationEnabled", nil, "The log-archive bucket is itself the copy of the flow logs and sessions that production accounts keep; it is versioned, locked (Object Lock, COMPLIANCE) and retained, and a studio adds replication where its continuity policy allows."},
	{regexp.MustCompile(`^(Replica|Exchange/Bucket|Exchange/AccessLogs)/Resource$`), "NIST.800.53.R5-S3BucketReplicationEnabled", nil, "Only with ingest or vendors. The DR replica is itself the copy of the asset bucket in another region; the exchange bucket holds, for 30 days at most, hand-overs of content the production keeps, and its access log bucket request metadata: a copy of either would be a copy the content owners never asked for."},
	{regexp.MustCompile(`^Replication/Role/DefaultPolicy/Resource$`), "AwsSolutions-IAM5", []string{`^Resource::arn:aws:s3:::[a-z0-9-]+-(assets|replica)-[0-9]{12}-[a-z0-9-]+/\*$`, `^Resource::arn:aws:kms:[a-z0-9-]+:[0-9]{12}:key/\*$`}, "Only with ingest. S3 replicates every object version of the asset bucket to its replica, whose keys are the content's own: the role reaches only these two buckets; the replica key is another region's, so kms:ResourceAliases names it, and kms:ViaService and the encryption context keep both keys to S3 for these buckets (ISE 5.1, 9.1)."},
	{regexp.MustCompile(`^Ingest/Role/DefaultPolicy/Resource$`), "AwsSolutions-IAM5", []string{`^Resource::arn:aws:s3:::[a-z0-9-]+-assets-[0-9]{12}-[a-z0-9-]+/ingest/\*$`}, "Only with ingest.dataSyncAgentArn. DataSync writes each ingested file under the ingest/ prefix of the production's asset bucket, under names the share holds, and nowhere else (ISE 5.1)."},
	{regexp.MustCompile(`^People/DataOperator/DefaultPolicy/Resource$`), "AwsSolutions-IAM5", []string{`^Resource::arn:aws:s3:::[a-z0-9-]+-(exchange|replica)-[0-9]{12}-[a-z0-9-]+/\*$`, `^Resource::arn:aws:kms:[a-z0-9-]+:[0-9]{12}:key/\*$`}, "Only with ingest or vendors. The data operator restores from the DR replica and delivers into the exchange bucket, objects named when they are written; both keys belong to another region or account, so kms:ResourceAliases names each, kms:ViaService keeps it to S3, and each bucket's and key's policy names the data operator (ISE 5.1, 9.3)."},
	{regexp.MustCompile(`^Exchange/Vendor-[a-z0-9-]+/DefaultPolicy/Resource$`), "AwsSolutions-IAM5", []string{`^Resource::arn:aws:s3:::[a-z0-9-]+-exchange-[0-9]{12}-[a-z0-9-]+/[a-z0-9-]+/\*$`}, "Only with vendors. A vendor reads, or also writes, the objects under its own prefix of the exchange bucket, named when they are handed over, and nothing else; it lists only with that prefix (s3:prefix), and the bucket policy refuses every other principal (ISE 5.1, 7.1)."},
	{regexp.MustCompile(`(^|/)AccessLogs/Resource$`), "NIST.800.53.R5-S3DefaultEncryptionKMS", nil, "S3 delivers server access logs only to buckets with S3-managed encryption (SSE-S3); these hold request metadata, never content."},
	{regexp.MustCompile(`^(Pipeline|ReviewPipeline)/.*/DefaultPolicy/Resource$`), "AwsSolutions-IAM5", []string{`^Action::s3:(Abort|DeleteObject|GetBucket|GetObject|List)\*$`, `^Action::kms:(GenerateDataKey|ReEncrypt)\*$`, `^Resource::<PipelineArtifactsBucket[0-9A-F]{8}\.Arn>/\*$`}, pipelineReason + " The pipeline's roles read, and the source, synth and pipeline roles write, the artifact bucket's objects, whose names CodePipeline makes per execution, with the artifact key: these are CDK's read and read-write action groups on that one bucket and key. The bucket policy refuses writes from any role outside the pipeline stack."},
	{regexp.MustCompile(`^(Pipeline|ReviewPipeline)/.*/DefaultPolicy/Resource$`), "AwsSolutions-IAM5", []string{`^Resource::arn:aws:codebuild:[a-z0-9-]+:[0-9]{12}:report-group/<[A-Za-z0-9]+>-\*$`, `^Resource::arn:aws:logs:[a-z0-9-]+:[0-9]{12}:log-group:/aws/codebuild/<[A-Za-z0-9]+>:\*$`}, pipelineReason + " Each CodeBuild project's role writes only its own project's build logs and test reports, whose streams and report names CodeBuild makes per build."},
	{regexp.MustCompile(`^Pipeline/Assets/FileRole/DefaultPolicy/Resource$`), "AwsSolutions-IAM5", []string{`^Resource::arn:aws:codebuild:[a-z0-9-]+:[0-9]{12}:report-group/\*$`, `^Resource::arn:aws:logs:[a-z0-9-]+:[0-9]{12}:log-group:/aws/codebuild/\*$`}, pipelineReason + " CDK Pipelines' asset role serves every asset project, which are made after the role: it writes CodeBuild logs and reports of the account. Its codebuild:StartBuild is narrowed to the pipeline's own asset projects (narrowAssetRole)."},
	{regexp.MustCompile(`^Pipeline/UpdatePipeline/SelfMutation/Role/DefaultPolicy/Resource$`), "AwsSolutions-IAM5", []string{`^Resource::arn:\*:iam::[0-9]{12}:role/\*$`, `^Resource::\*$`}, pipelineReason + " Self-mutation assumes only the management account's CDK bootstrap roles tagged deploy, file-publishing or image-publishing (iam:ResourceTag/aws-cdk:bootstrap-role), and reads stack states (cloudformation:DescribeStacks) and bucket listings (s3:ListBucket), which it needs before it knows the bootstrap bucket. It runs only after the ReviewPipeline approval."},
	{regexp.MustCompile(`^Pipeline/PipelinesSecurityCheck/CDKSecurityCheck/Role/DefaultPolicy/Resource$`), "AwsSolutions-IAM5", []string{`^Resource::\*$`, `^Resource::<PipelinePipelinesSecurityCheckCDKPipelinesAutoApprove[0-9A-F]{8}\.Arn>:\*$`}, pipelineReason + " The permissions-broadening check assumes only CDK bootstrap roles tagged deploy (iam:ResourceTag/aws-cdk:bootstrap-role), of every account the pipeline deploys to, to diff their stacks, and invokes any version of its own approval function."},
	{regexp.MustCompile(`^Pipeline/PipelinesSecurityCheck/CDKPipelinesAutoApprove/ServiceRole/DefaultPolicy/Resource$`), "AwsSolutions-IAM5", []string{`^Resource::arn:aws:codepipeline:[a-z0-9-]+:[0-9]{12}:[a-z0-9-]+-estate/\*$`}, pipelineReason + " The broadening function reads this pipeline's state and approves actions of this pipeline only (narrowAssetRole narrows CDK's grant on every tagged pipeline); approval actions are named by stage and action. The approver checks refuse its approval of anything but a broadening confirmation."},
	{regexp.MustCompile(`^ReviewPipeline/PipelineDiff/Role/DefaultPolicy/Resource$`), "AwsSolutions-IAM5", []string{`^Resource::arn:aws:cloudformation:[a-z0-9-]+:[0-9]{12}:stack/[a-z0-9-]+-pipeline/\*$`}, pipelineReason + " The pipeline diff reads the template and state of the pipeline stack alone; a stack ARN ends with an id CloudFormation makes at creation."},
	{regexp.MustCompile(`^Pipeline/PipelinesSecurityCheck/CDKPipelinesAutoApprove/ServiceRole/Resource$`), "AwsSolutions-IAM4", []string{`^Policy::.*AWSLambdaBasicExecutionRole$`}, autoApproveReason + " The managed policy only lets it write its own logs."},
	{regexp.MustCompile(`^Pipeline/PipelinesSecurityCheck/CDKPipelinesAutoApprove/Resource$`), "NIST.800.53.R5-LambdaConcurrency", nil, autoApproveReason},
	{regexp.MustCompile(`^Pipeline/PipelinesSecurityCheck/CDKPipelinesAutoApprove/Resource$`), "NIST.800.53.R5-LambdaDLQ", nil, autoApproveReason},
	{regexp.MustCompile(`^Pipeline/PipelinesSecurityCheck/CDKPipelinesAutoApprove/Resource$`), "NIST.800.53.R5-LambdaInsideVPC", nil, autoApproveReason},
	{regexp.MustCompile(`^Pipeline/Pipeline/ArtifactsBucket/Resource$`), "AwsSolutions-S1", nil, pipelineReason + " The artifact bucket holds transient build outputs, encrypted with the pipeline's rotated key; every execution is recorded by CloudTrail."},
	{regexp.MustCompile(`^Pipeline/Pipeline/ArtifactsBucket/Resource$`), "NIST.800.53.R5-S3BucketLoggingEnabled", nil, pipelineReason + " The artifact bucket holds transient build outputs, encrypted with the pipeline's rotated key; every execution is recorded by CloudTrail."},
	{regexp.MustCompile(`^Hub/Vpc/front-endSubnet[0-9]+/DefaultRoute$`), "NIST.800.53.R5-VPCNoUnrestrictedRouteToIGW", nil, "ISE 2.2: the front-end subnets hold only the NAT gateways that carry license egress; their network ACL admits only the license servers' ports."},
}

// ApplySuppressions attaches the suppressions to the matching resources of
// stack, res being its inventory, and adds to used how often each entry was
// used. Resources that take the same entries take them in one call: most
// take only the one that applies to every resource.
func ApplySuppressions(stack awscdk.Stack, res []inventory.Resource, used map[int]int) {
	prefix := *stack.Node().Path() + "/"
	var groups []*suppressionGroup
	byEntries := map[string]*suppressionGroup{}
	for _, r := range res {
		rel := strings.TrimPrefix(r.Path, prefix)
		var entries []int
		for i, s := range Suppressions {
			if s.Path.MatchString(rel) {
				used[i]++
				entries = append(entries, i)
			}
		}
		if len(entries) == 0 {
			continue
		}
		key := fmt.Sprint(entries)
		g, ok := byEntries[key]
		if !ok {
			g = &suppressionGroup{entries: entries}
			byEntries[key] = g
			groups = append(groups, g)
		}
		g.resources = append(g.resources, r.Construct)
	}
	for _, g := range groups {
		list := make([]*cdknag.NagPackSuppression, len(g.entries))
		for j, i := range g.entries {
			list[j] = Suppressions[i].nag()
		}
		cdknag.NagSuppressions_AddResourceSuppressions(g.resources, &list, jsii.Bool(false))
	}
}

// suppressionGroup is the resources of a stack that take the same entries.
type suppressionGroup struct {
	entries   []int
	resources []constructs.IConstruct
}

// nag is the entry as cdk-nag takes it.
func (s Suppression) nag() *cdknag.NagPackSuppression {
	sup := &cdknag.NagPackSuppression{Id: jsii.String(s.Rule), Reason: jsii.String(s.Reason)}
	if len(s.AppliesTo) > 0 {
		applies := make([]any, len(s.AppliesTo))
		for j, a := range s.AppliesTo {
			applies[j] = map[string]any{"regex": "/" + a + "/g"}
		}
		sup.AppliesTo = &applies
	}
	return sup
}
