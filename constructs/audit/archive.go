package audit

import (
	"fmt"
	"maps"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/renderenv/renderenv/constructs/keys"
)

// FlowLogDelivery is the service that writes VPC flow logs to S3.
const FlowLogDelivery = "delivery.logs.amazonaws.com"

// Policy variables a writer's request fills in.
const (
	principalAccount = "${aws:PrincipalAccount}"
	sourceAccount    = "${aws:SourceAccount}"
	productionTag    = "aws:PrincipalTag/Production"
)

// newArchive creates the log-archive bucket: the copies of the flow logs
// and Session Manager sessions that production accounts also keep in log
// groups of their own, which their administrators can delete. Here nobody
// can: the bucket is versioned and locked (Object Lock, COMPLIANCE mode)
// for the trail's retention, the log-archive account's root included, and
// the writers may only add objects under their own prefix (ISE 8.1, 9.4).
func newArchive(c constructs.Construct, key *keys.Key, logs awss3.IBucket, props CentralProps) awss3.Bucket {
	ar := props.Archive
	bucketArn := "arn:aws:s3:::" + ar.BucketName
	// Flow log delivery writes for the account whose VPC it logs
	// (aws:SourceAccount), of this region, and of the studio's accounts.
	delivery := map[string]any{"ArnLike": map[string]any{"aws:SourceArn": fmt.Sprintf("arn:aws:logs:%s:%s:*", props.Region, sourceAccount)}}
	// Render nodes write as a role named for the production their role's
	// Production tag names, in the account they run in: a role of another
	// name, or tagged for another production, matches no prefix.
	renderRole := strings.ReplaceAll(ar.RenderRole, RenderRoleProduction, "${"+productionTag+"}")
	// StringEquals, not ArnEquals: the ARN operators are documented with
	// policy variables too, but a variable in an ARN's account field is
	// where evaluators differ; a role ARN is compared exactly either way.
	admitted := map[string]any{"aws:PrincipalArn": "arn:aws:iam::" + principalAccount + ":role/" + renderRole}
	nodes := map[string]any{
		"StringEquals": admitted,
		"Null":         map[string]any{productionTag: "false"},
	}
	var writers []awsiam.IPrincipal
	if ar.OrganizationID != "" {
		delivery["StringEquals"] = map[string]any{"aws:SourceOrgID": ar.OrganizationID}
		admitted["aws:PrincipalOrgID"] = ar.OrganizationID
		writers = []awsiam.IPrincipal{awsiam.NewStarPrincipal()}
	} else {
		delivery["StringEquals"] = map[string]any{"aws:SourceAccount": ar.Accounts}
		for _, acct := range ar.Accounts {
			writers = append(writers, awsiam.NewAccountPrincipal(jsii.String(acct)))
		}
	}
	with := func(cond map[string]any, more map[string]any) *map[string]any {
		out := maps.Clone(cond)
		for op, kv := range more {
			merged := map[string]any{}
			if m, ok := out[op].(map[string]any); ok {
				maps.Copy(merged, m)
			}
			maps.Copy(merged, kv.(map[string]any))
			out[op] = merged
		}
		return &out
	}

	// The key is named by the literal bucket ARN: the bucket depends on the
	// key, so the key policy cannot refer to it.
	key.AllowService("FlowLogDeliveryEncryptsArchive", FlowLogDelivery,
		[]string{"kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey"}, delivery)
	// Render nodes encrypt the sessions they upload: through S3 only, and
	// only for objects of this bucket. Decrypt is what S3 asks for a
	// multipart upload; without s3:GetObject it reads nothing.
	key.AddStatements(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        jsii.String("RenderNodesEncryptArchivedSessions"),
		Principals: &writers,
		Actions:    jsii.Strings("kms:GenerateDataKey", "kms:Decrypt"),
		Resources:  jsii.Strings("*"),
		Conditions: with(nodes, map[string]any{
			"StringEquals": map[string]any{"kms:ViaService": fmt.Sprintf("s3.%s.amazonaws.com", props.Region)},
			"StringLike":   map[string]any{"kms:EncryptionContext:aws:s3:arn": []string{bucketArn, bucketArn + "/" + ar.SessionPrefix + "*"}},
		}),
	}))

	// As the trail bucket: nobody, the log-archive account's root included,
	// deletes or overwrites a copy before the retention ends.
	b := lockedBucket(c, "ArchiveBucket", ar.BucketName, key.Key, logs, "archive/", props.RetentionDays)
	delivers := &[]awsiam.IPrincipal{awsiam.NewServicePrincipal(jsii.String(FlowLogDelivery), nil)}
	b.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        jsii.String("FlowLogDeliveryChecksTheBucket"),
		Principals: delivers,
		Actions:    jsii.Strings("s3:GetBucketAcl", "s3:ListBucket"),
		Resources:  &[]*string{b.BucketArn()},
		Conditions: &delivery,
	}))
	// Each account's flow logs land under its own AWSLogs/<account>/
	// prefix, and only from that account's log deliveries.
	b.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        jsii.String("FlowLogsOfEachAccountUnderItsOwnPrefix"),
		Principals: delivers,
		Actions:    jsii.Strings("s3:PutObject"),
		Resources:  &[]*string{b.ArnForObjects(jsii.String(ar.FlowLogPrefix + "AWSLogs/" + sourceAccount + "/*"))},
		Conditions: with(delivery, map[string]any{"StringEquals": map[string]any{"s3:x-amz-acl": "bucket-owner-full-control"}}),
	}))
	// Each production's render role writes under its own prefix and
	// nowhere else; it never reads, lists or deletes. SSM Agent uploads
	// with the canned ACL bucket-owner-full-control, which S3 authorizes
	// as s3:PutObjectAcl too; with ACLs disabled (BucketOwnerEnforced)
	// that ACL is the only one S3 accepts, and it changes nothing.
	b.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        jsii.String("RenderNodesArchiveTheirOwnSessions"),
		Principals: &writers,
		Actions:    jsii.Strings("s3:PutObject", "s3:PutObjectAcl"),
		Resources:  &[]*string{b.ArnForObjects(jsii.String(ar.SessionPrefix + principalAccount + "/${" + productionTag + "}/*"))},
		Conditions: &nodes,
	}))
	// SSM Agent checks that the bucket encrypts by default before it
	// uploads a session (s3EncryptionEnabled).
	b.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        jsii.String("RenderNodesSeeArchiveEncryption"),
		Principals: &writers,
		Actions:    jsii.Strings("s3:GetEncryptionConfiguration"),
		Resources:  &[]*string{b.BucketArn()},
		Conditions: &nodes,
	}))
	return b
}
