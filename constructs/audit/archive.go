package audit

import (
	"fmt"
	"slices"

	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/renderenv/renderenv/constructs/keys"
	"github.com/renderenv/renderenv/internal/names"
)

// FlowLogDelivery is the service that writes VPC flow logs to S3.
const FlowLogDelivery = "delivery.logs.amazonaws.com"

// newArchive creates the log-archive bucket: the copies of the flow logs
// and Session Manager sessions that production accounts also keep in log
// groups of their own, which their administrators can delete. Here nobody
// can: the bucket is versioned and locked (Object Lock, COMPLIANCE mode)
// for the trail's retention, the log-archive account's root included, and
// the writers may only add objects under their own prefix (ISE 8.1, 9.4).
func newArchive(c constructs.Construct, key *keys.Key, logs awss3.IBucket, props CentralProps) awss3.Bucket {
	ar := props.Archive
	bucketArn := "arn:aws:s3:::" + ar.BucketName
	var sourceArns []string
	for _, acct := range ar.FlowLogAccounts {
		sourceArns = append(sourceArns, fmt.Sprintf("arn:aws:logs:%s:%s:*", props.Region, acct))
	}
	delivery := map[string]any{
		"StringEquals": map[string]any{"aws:SourceAccount": ar.FlowLogAccounts},
		"ArnLike":      map[string]any{"aws:SourceArn": sourceArns},
	}
	// The key is named by the literal bucket ARN: the bucket depends on the
	// key, so the key policy cannot refer to it.
	if len(ar.FlowLogAccounts) > 0 {
		key.AllowService("FlowLogDeliveryEncryptsArchive", FlowLogDelivery,
			[]string{"kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey"}, delivery)
	}
	if len(ar.SessionWriters) > 0 {
		var accounts, roles []string
		for _, w := range ar.SessionWriters {
			accounts = append(accounts, w.Account)
			roles = append(roles, w.RoleArn)
		}
		slices.Sort(accounts)
		var principals []awsiam.IPrincipal
		for _, acct := range slices.Compact(accounts) {
			principals = append(principals, awsiam.NewAccountPrincipal(jsii.String(acct)))
		}
		// Render nodes encrypt the sessions they upload: through S3 only,
		// and only for objects of this bucket. Decrypt is what S3 asks for
		// a multipart upload; without s3:GetObject it reads nothing.
		key.AddStatements(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:        jsii.String("RenderNodesEncryptArchivedSessions"),
			Principals: &principals,
			Actions:    jsii.Strings("kms:GenerateDataKey", "kms:Decrypt"),
			Resources:  jsii.Strings("*"),
			Conditions: &map[string]any{
				"ArnEquals":    map[string]any{"aws:PrincipalArn": roles},
				"StringEquals": map[string]any{"kms:ViaService": fmt.Sprintf("s3.%s.amazonaws.com", props.Region)},
				"StringLike":   map[string]any{"kms:EncryptionContext:aws:s3:arn": []string{bucketArn, bucketArn + "/sessions/*"}},
			},
		}))
	}

	// As the trail bucket: nobody, the log-archive account's root included,
	// deletes or overwrites a copy before the retention ends.
	b := lockedBucket(c, "ArchiveBucket", ar.BucketName, key.Key, logs, "archive/", props.RetentionDays)
	if len(ar.FlowLogAccounts) > 0 {
		logs := &[]awsiam.IPrincipal{awsiam.NewServicePrincipal(jsii.String(FlowLogDelivery), nil)}
		b.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:        jsii.String("FlowLogDeliveryChecksTheBucket"),
			Principals: logs,
			Actions:    jsii.Strings("s3:GetBucketAcl", "s3:ListBucket"),
			Resources:  &[]*string{b.BucketArn()},
			Conditions: &delivery,
		}))
		// Each account's flow logs land under its own AWSLogs/<account>/
		// prefix, and only from that account's log deliveries.
		for i, acct := range ar.FlowLogAccounts {
			b.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
				Sid:        jsii.String("FlowLogsOf" + acct),
				Principals: logs,
				Actions:    jsii.Strings("s3:PutObject"),
				Resources:  &[]*string{b.ArnForObjects(jsii.String(ar.FlowLogPrefix + "AWSLogs/" + acct + "/*"))},
				Conditions: &map[string]any{
					"StringEquals": map[string]any{"aws:SourceAccount": acct, "s3:x-amz-acl": "bucket-owner-full-control"},
					"ArnLike":      map[string]any{"aws:SourceArn": sourceArns[i]},
				},
			}))
		}
	}
	var roles []string
	for _, w := range ar.SessionWriters {
		roles = append(roles, w.RoleArn)
		// One statement per production: its render role, by exact ARN,
		// writes under its own prefix and nowhere else; it never reads,
		// lists or deletes. SSM Agent uploads with the canned ACL
		// bucket-owner-full-control, which S3 authorizes as
		// s3:PutObjectAcl too; with ACLs disabled (BucketOwnerEnforced)
		// that ACL is the only one S3 accepts, and it changes nothing.
		b.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:        jsii.String("SessionsOf" + names.Sid(w.Name)),
			Principals: &[]awsiam.IPrincipal{awsiam.NewAccountPrincipal(jsii.String(w.Account))},
			Actions:    jsii.Strings("s3:PutObject", "s3:PutObjectAcl"),
			Resources:  &[]*string{b.ArnForObjects(jsii.String(w.Prefix + "/*"))},
			Conditions: &map[string]any{"ArnEquals": map[string]any{"aws:PrincipalArn": w.RoleArn}},
		}))
	}
	if len(ar.SessionWriters) > 0 {
		var principals []awsiam.IPrincipal
		seen := map[string]bool{}
		for _, w := range ar.SessionWriters {
			if !seen[w.Account] {
				seen[w.Account] = true
				principals = append(principals, awsiam.NewAccountPrincipal(jsii.String(w.Account)))
			}
		}
		// SSM Agent checks that the bucket encrypts by default before it
		// uploads a session (s3EncryptionEnabled).
		b.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:        jsii.String("RenderNodesSeeArchiveEncryption"),
			Principals: &principals,
			Actions:    jsii.Strings("s3:GetEncryptionConfiguration"),
			Resources:  &[]*string{b.BucketArn()},
			Conditions: &map[string]any{"ArnEquals": map[string]any{"aws:PrincipalArn": roles}},
		}))
	}
	return b
}
