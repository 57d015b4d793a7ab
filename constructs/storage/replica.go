package storage

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/renderenv/renderenv/constructs/access"
)

// HardenedBucketProps is a bucket that holds content outside the asset
// bucket (the DR replica, the vendor exchange): the asset bucket's
// hardening without its VPC endpoint, which these buckets have none of.
type HardenedBucketProps struct {
	Name string
	Key  awskms.IKey
	// AccessLogs receives the server access logs under LogPrefix.
	AccessLogs awss3.IBucket
	LogPrefix  string
	// Users are the only role ARNs that may reach data at all.
	Users []string
	// Lifecycle are the bucket's lifecycle rules.
	Lifecycle []*awss3.LifecycleRule
}

// NewHardenedBucket creates a versioned, KMS-encrypted (bucket keys),
// TLS-only, private bucket with ACLs disabled, retained with its stack,
// that accepts no object not encrypted with its key and serves data to
// Users only.
func NewHardenedBucket(scope constructs.Construct, id string, props HardenedBucketProps) awss3.Bucket {
	b := awss3.NewBucket(scope, jsii.String(id), HardenedProps(props.Name, props.Key, props.AccessLogs, props.LogPrefix, &props.Lifecycle))
	objects := b.ArnForObjects(jsii.String("*"))
	for _, st := range append(KeyWriteDenials(objects, props.Key.KeyArn()), DataAccessDenial(b.BucketArn(), objects, "DenyDataAccessToAllButTheNamedRoles", props.Users)) {
		b.AddToResourcePolicy(st)
	}
	return b
}

// ReplicaLifecycle is the DR replica's: like the asset bucket's, nothing
// expires and old objects move to colder storage after archiveAfter days.
func ReplicaLifecycle(archiveAfter int) []*awss3.LifecycleRule { return *assetLifecycle(archiveAfter) }

// ReplicationProps is the replication of an asset bucket to its DR replica
// in another region.
type ReplicationProps struct {
	// RoleName is the replication role's fixed name.
	RoleName        string
	Account, Region string
	// Source is the asset bucket's name, written out so that the bucket,
	// which names the role, and the role, which names the bucket, do not
	// depend on each other; SourceKey encrypts it.
	Source    string
	SourceKey awskms.IKey
	// Destination is the replica bucket's name, in DrRegion, encrypted with
	// the key of DestinationKeyAlias (without alias/) there.
	Destination, DrRegion, DestinationKeyAlias string
}

// Replicate replicates every object version of source to the DR replica,
// re-encrypted there with the replica key, through a role that S3 alone
// assumes for this bucket and that reaches only the two buckets and keys.
// Delete markers are not replicated: a delete in the production does not
// reach the copy.
func Replicate(scope constructs.Construct, id string, source awss3.Bucket, props ReplicationProps) awsiam.Role {
	c := constructs.NewConstruct(scope, jsii.String(id))
	src := jsii.String("arn:aws:s3:::" + props.Source)
	dest := "arn:aws:s3:::" + props.Destination
	sr := access.NewServiceRole(c, "Role", access.ServiceRoleProps{
		Name:        props.RoleName,
		Description: "S3 replicates the asset bucket to its disaster-recovery copy as this role; nothing else may assume it",
		Service:     "s3.amazonaws.com",
		Account:     props.Account,
		SourceArn:   *src,
	})
	role, add := sr.Role, sr.Allow
	objects := jsii.String(*src + "/*")
	add("ReadTheReplicationConfiguration", []string{"s3:GetReplicationConfiguration", "s3:ListBucket"}, []*string{src}, nil)
	add("ReadVersionsToReplicate", []string{"s3:GetObjectVersionForReplication", "s3:GetObjectVersionAcl", "s3:GetObjectVersionTagging"}, []*string{objects}, nil)
	add("WriteReplicas", []string{"s3:ReplicateObject", "s3:ReplicateTags"}, []*string{jsii.String(dest + "/*")}, nil)
	add("DecryptTheSourceThroughS3", []string{"kms:Decrypt"}, []*string{props.SourceKey.KeyArn()}, map[string]any{
		"StringEquals": map[string]any{"kms:ViaService": fmt.Sprintf("s3.%s.amazonaws.com", props.Region)},
		"StringLike":   map[string]any{"kms:EncryptionContext:aws:s3:arn": []*string{src, objects}},
	})
	// The replica key's id is not known in this stack (another region's):
	// kms:ResourceAliases names it.
	add("EncryptReplicasThroughS3", []string{"kms:Encrypt", "kms:GenerateDataKey"},
		[]*string{jsii.String(fmt.Sprintf("arn:aws:kms:%s:%s:key/*", props.DrRegion, props.Account))}, map[string]any{
			"StringEquals":             map[string]any{"kms:ViaService": fmt.Sprintf("s3.%s.amazonaws.com", props.DrRegion)},
			"ForAnyValue:StringEquals": map[string]any{"kms:ResourceAliases": "alias/" + props.DestinationKeyAlias},
			"StringLike":               map[string]any{"kms:EncryptionContext:aws:s3:arn": []string{dest, dest + "/*"}},
		})
	cfnBucket := source.Node().DefaultChild().(awss3.CfnBucket)
	cfnBucket.SetReplicationConfiguration(&awss3.CfnBucket_ReplicationConfigurationProperty{
		Role: role.RoleArn(),
		Rules: []any{&awss3.CfnBucket_ReplicationRuleProperty{
			Id:                      jsii.String("disaster-recovery"),
			Status:                  jsii.String("Enabled"),
			Priority:                jsii.Number(1),
			Filter:                  &awss3.CfnBucket_ReplicationRuleFilterProperty{Prefix: jsii.String("")},
			DeleteMarkerReplication: &awss3.CfnBucket_DeleteMarkerReplicationProperty{Status: jsii.String("Disabled")},
			SourceSelectionCriteria: &awss3.CfnBucket_SourceSelectionCriteriaProperty{
				SseKmsEncryptedObjects: &awss3.CfnBucket_SseKmsEncryptedObjectsProperty{Status: jsii.String("Enabled")},
			},
			Destination: &awss3.CfnBucket_ReplicationDestinationProperty{
				Bucket: jsii.String(dest),
				EncryptionConfiguration: &awss3.CfnBucket_EncryptionConfigurationProperty{
					ReplicaKmsKeyId: jsii.String(fmt.Sprintf("arn:aws:kms:%s:%s:alias/%s", props.DrRegion, props.Account, props.DestinationKeyAlias)),
				},
			},
		}},
	})
	cfnBucket.Node().AddDependency(role)
	return role
}
