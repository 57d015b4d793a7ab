// Package storage creates a production's asset bucket (ISE 5.1, 10.6) and the
// bucket its access logs go to.
package storage

import (
	"slices"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// DataActions are the object-level actions the endpoint rule governs.
// Bucket configuration is left to the deployment role, which works from
// outside the VPC.
var DataActions = []string{
	"s3:AbortMultipartUpload", "s3:DeleteObject*", "s3:GetObject*", "s3:ListBucket*",
	"s3:ListMultipartUploadParts", "s3:PutObject*", "s3:ReplicateObject", "s3:RestoreObject",
}

// ClosingSid is the bucket policy statement that refuses new objects in
// a closing production's asset bucket.
const ClosingSid = "ClosingNoNewWrites"

// NewAccessLogBucket is the target of S3 server access logs. S3 delivers
// access logs only to buckets with S3-managed encryption (SSE-S3), so this
// is the one bucket kind without a customer-managed key; it holds request
// metadata, never content.
func NewAccessLogBucket(scope constructs.Construct, id, name string) awss3.Bucket {
	return awss3.NewBucket(scope, jsii.String(id), &awss3.BucketProps{
		BucketName:        jsii.String(name),
		Encryption:        awss3.BucketEncryption_S3_MANAGED,
		BlockPublicAccess: awss3.BlockPublicAccess_BLOCK_ALL(),
		ObjectOwnership:   awss3.ObjectOwnership_BUCKET_OWNER_ENFORCED,
		EnforceSSL:        jsii.Bool(true),
		Versioned:         jsii.Bool(true),
		RemovalPolicy:     awscdk.RemovalPolicy_RETAIN,
		LifecycleRules: &[]*awss3.LifecycleRule{{
			Id: jsii.String("archive"),
			Transitions: &[]*awss3.Transition{{
				StorageClass:    awss3.StorageClass_GLACIER(),
				TransitionAfter: awscdk.Duration_Days(jsii.Number(90)),
			}},
		}},
	})
}

// AssetBucketProps is a resolved asset bucket.
type AssetBucketProps struct {
	Name string
	Key  awskms.IKey
	// AccessLogs receives the server access logs.
	AccessLogs awss3.IBucket
	LogPrefix  string
	// Endpoint is the production VPC's S3 gateway endpoint id: data is read
	// and written only through it.
	Endpoint *string
	// Exempt are role ARNs that may reach data from outside the VPC (the
	// data operator, for ingest and delivery).
	Exempt []string
	// ExemptFrom are the source ranges (the studio's admin ranges) the
	// exempt roles must call from when not through the endpoint.
	ExemptFrom []string
	// Users are the only role ARNs that may reach data at all (the
	// production's data operator and render role): an administrator of a
	// shared account, or a role someone creates there, is refused whatever
	// its IAM policy grants.
	Users []string
	// Services are role ARNs only AWS services assume for the production
	// (S3 replication, DataSync): they reach data too, from the service
	// rather than the VPC or the studio's ranges, and their trust admits
	// nobody else.
	Services []string
	// DefaultEncryptionWriters are those of Services that write without
	// naming the key (DataSync): the bucket's default encrypts their
	// objects with it.
	DefaultEncryptionWriters []string
	// Closing refuses every new object, from every principal, while the
	// data operator still reads and hands the content over (ISE 10.9).
	Closing bool
	// ArchiveAfterDays, when not 0, moves objects and noncurrent versions
	// older than that to colder storage.
	ArchiveAfterDays int
}

// NewAssetBucket creates a versioned, KMS-encrypted, TLS-only bucket that
// accepts no object not encrypted with the asset key and serves data only
// through the production's endpoint: the bucket layer of reference 000's
// data perimeter.
func NewAssetBucket(scope constructs.Construct, id string, props AssetBucketProps) awss3.Bucket {
	b := awss3.NewBucket(scope, jsii.String(id), HardenedProps(props.Name, props.Key, props.AccessLogs, props.LogPrefix, assetLifecycle(props.ArchiveAfterDays)))
	anyone := &[]awsiam.IPrincipal{awsiam.NewAnyPrincipal()}
	bucket, objects := b.BucketArn(), b.ArnForObjects(jsii.String("*"))
	// The statements go into the bucket policy (EnforceSSL made it) in one
	// call, not one AddToResourcePolicy each.
	var stmts []awsiam.PolicyStatement
	if props.Closing {
		// s3:PutObject also authorizes copies and multipart uploads.
		stmts = append(stmts, awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:        jsii.String(ClosingSid),
			Effect:     awsiam.Effect_DENY,
			Principals: anyone,
			Actions:    jsii.Strings("s3:PutObject"),
			Resources:  &[]*string{objects},
		}))
	}
	stmts = append(stmts, KeyWriteDenials(objects, props.Key.KeyArn(), props.DefaultEncryptionWriters...)...)
	stmts = append(stmts, DataAccessDenial(bucket, objects, "DenyDataAccessToAllButTheProductionsRoles", append(slices.Clone(props.Users), props.Services...)))
	stmts = append(stmts, awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        jsii.String("DenyDataAccessOutsideTheProductionVpc"),
		Effect:     awsiam.Effect_DENY,
		Principals: anyone,
		Actions:    jsii.Strings(DataActions...),
		Resources:  &[]*string{bucket, objects},
		Conditions: &map[string]any{
			"StringNotEquals": map[string]any{"aws:SourceVpce": props.Endpoint},
			"ArnNotLike":      map[string]any{"aws:PrincipalArn": append(slices.Clone(props.Exempt), props.Services...)},
		},
	}))
	if len(props.ExemptFrom) > 0 {
		// The exempt roles reach data from outside the VPC only from the
		// studio's ranges: a copy of their session credentials is useless
		// anywhere else.
		stmts = append(stmts, awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:        jsii.String("DenyExemptRolesOutsideTheStudiosRanges"),
			Effect:     awsiam.Effect_DENY,
			Principals: anyone,
			Actions:    jsii.Strings(DataActions...),
			Resources:  &[]*string{bucket, objects},
			Conditions: &map[string]any{
				"ArnLike":         map[string]any{"aws:PrincipalArn": props.Exempt},
				"StringNotEquals": map[string]any{"aws:SourceVpce": props.Endpoint},
				"NotIpAddress":    map[string]any{"aws:SourceIp": props.ExemptFrom},
			},
		}))
	}
	b.Policy().Document().AddStatements(stmts...)
	return b
}

// HardenedProps are the properties of a bucket that holds content or
// logs: KMS-encrypted with key (bucket keys), private, ACLs disabled,
// TLS-only, versioned, logging its requests under prefix of logs, retained
// with its stack.
func HardenedProps(name string, key awskms.IKey, logs awss3.IBucket, prefix string, lifecycle *[]*awss3.LifecycleRule) *awss3.BucketProps {
	return &awss3.BucketProps{
		BucketName:             jsii.String(name),
		Encryption:             awss3.BucketEncryption_KMS,
		EncryptionKey:          key,
		BucketKeyEnabled:       jsii.Bool(true),
		BlockPublicAccess:      awss3.BlockPublicAccess_BLOCK_ALL(),
		ObjectOwnership:        awss3.ObjectOwnership_BUCKET_OWNER_ENFORCED,
		EnforceSSL:             jsii.Bool(true),
		Versioned:              jsii.Bool(true),
		ServerAccessLogsBucket: logs,
		ServerAccessLogsPrefix: jsii.String(prefix),
		RemovalPolicy:          awscdk.RemovalPolicy_RETAIN,
		LifecycleRules:         lifecycle,
	}
}

// assetLifecycle cleans up abandoned uploads and, after archiveAfter days
// (0: never), moves objects and noncurrent versions to Glacier Instant
// Retrieval, which still serves a read at once. Nothing ever expires.
func assetLifecycle(archiveAfter int) *[]*awss3.LifecycleRule {
	rules := []*awss3.LifecycleRule{{
		Id:                                  jsii.String("abort-incomplete-uploads"),
		AbortIncompleteMultipartUploadAfter: awscdk.Duration_Days(jsii.Number(7)),
	}}
	if archiveAfter > 0 {
		after := awscdk.Duration_Days(jsii.Number(archiveAfter))
		rules = append(rules, &awss3.LifecycleRule{
			Id: jsii.String("archive"),
			Transitions: &[]*awss3.Transition{{
				StorageClass: awss3.StorageClass_GLACIER_INSTANT_RETRIEVAL(), TransitionAfter: after,
			}},
			NoncurrentVersionTransitions: &[]*awss3.NoncurrentVersionTransition{{
				StorageClass: awss3.StorageClass_GLACIER_INSTANT_RETRIEVAL(), TransitionAfter: after,
			}},
		})
	}
	return &rules
}

// KeyWriteDenials refuse every s3:PutObject of objects that does not ask
// for aws:kms with keyArn: one that asks for other encryption, another
// key, aws:kms without a key, or nothing (the IfExists conditions hold
// when the header is absent). Writers named in defaults may ask for
// nothing, and get the bucket's default encryption with the key: AWS
// services such as DataSync write so, and cannot name a key.
func KeyWriteDenials(objects, keyArn *string, defaults ...string) []awsiam.PolicyStatement {
	anyone := &[]awsiam.IPrincipal{awsiam.NewAnyPrincipal()}
	unless := func(c map[string]any) *map[string]any {
		if len(defaults) > 0 {
			c["ArnNotLike"] = map[string]any{"aws:PrincipalArn": defaults}
		}
		return &c
	}
	deny := func(sid string, conditions *map[string]any) awsiam.PolicyStatement {
		return awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:        jsii.String(sid),
			Effect:     awsiam.Effect_DENY,
			Principals: anyone,
			Actions:    jsii.Strings("s3:PutObject"),
			Resources:  &[]*string{objects},
			Conditions: conditions,
		})
	}
	return []awsiam.PolicyStatement{
		deny("DenyWritesWithoutKms", unless(map[string]any{"StringNotEqualsIfExists": map[string]any{"s3:x-amz-server-side-encryption": "aws:kms"}})),
		deny("DenyWritesWithAnotherKey", unless(map[string]any{"StringNotEqualsIfExists": map[string]any{"s3:x-amz-server-side-encryption-aws-kms-key-id": keyArn}})),
		// A request that asks for aws:kms without naming a key is
		// encrypted with the account's AWS-managed aws/s3 key, not this
		// key, and carries no key id for the statement above to compare.
		deny("DenyKmsWritesThatNameNoKey", &map[string]any{
			"StringEquals": map[string]any{"s3:x-amz-server-side-encryption": "aws:kms"},
			"Null":         map[string]any{"s3:x-amz-server-side-encryption-aws-kms-key-id": "true"},
		}),
	}
}

// DataAccessDenial refuses data access (DataActions) to the bucket and
// its objects to every principal but the role ARNs named, by
// aws:PrincipalArn: an administrator of the bucket's account, or a role it
// creates, is refused whatever its IAM policy grants.
func DataAccessDenial(bucket, objects *string, sid string, users []string) awsiam.PolicyStatement {
	return awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        jsii.String(sid),
		Effect:     awsiam.Effect_DENY,
		Principals: &[]awsiam.IPrincipal{awsiam.NewAnyPrincipal()},
		Actions:    jsii.Strings(DataActions...),
		Resources:  &[]*string{bucket, objects},
		Conditions: &map[string]any{"ArnNotLike": map[string]any{"aws:PrincipalArn": users}},
	})
}

// ObjectActions are what a person or render node does with content.
var ObjectActions = []string{
	"s3:AbortMultipartUpload", "s3:DeleteObject", "s3:GetBucketLocation", "s3:GetObject",
	"s3:GetObjectVersion", "s3:ListBucket", "s3:ListMultipartUploadParts", "s3:PutObject",
}

// ObjectAccess reads and writes the objects of one bucket, using its key
// only through S3.
func ObjectAccess(bucketArn, keyArn *string, region string) []awsiam.PolicyStatement {
	return []awsiam.PolicyStatement{
		awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:       jsii.String("ReadWriteOwnAssets"),
			Actions:   jsii.Strings(ObjectActions...),
			Resources: &[]*string{bucketArn, jsii.String(*bucketArn + "/*")},
		}),
		awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:        jsii.String("AssetKeyThroughS3Only"),
			Actions:    jsii.Strings("kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"),
			Resources:  &[]*string{keyArn},
			Conditions: &map[string]any{"StringEquals": map[string]any{"kms:ViaService": "s3." + region + ".amazonaws.com"}},
		}),
	}
}
