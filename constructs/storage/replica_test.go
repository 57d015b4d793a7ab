package storage_test

import (
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/jsii-runtime-go"

	"github.com/renderenv/renderenv/constructs/storage"
	"github.com/renderenv/renderenv/internal/cdktest"
)

const (
	replica      = "acme-nightfall-replica-333333333333-us-east-2"
	replicaAlias = "acme/nightfall/replica"
	replicator   = "arn:aws:iam::333333333333:role/acme-nightfall-replication"
	datasync     = "arn:aws:iam::333333333333:role/acme-nightfall-datasync"
)

var replicated, hardened cdktest.Once[assertions.Template]

// replicatedAssets is an asset bucket that archives after 90 days and
// replicates to its DR replica.
func replicatedAssets(t *testing.T) assertions.Template {
	t.Helper()
	return replicated.Get(t, func() assertions.Template {
		s := cdktest.NewStack(t, account, region)
		key := awskms.NewKey(s, jsii.String("AssetKey"), nil)
		b := storage.NewAssetBucket(s, "Assets", storage.AssetBucketProps{
			Name: assets, Key: key, AccessLogs: storage.NewAccessLogBucket(s, "AccessLogs", logs), LogPrefix: "assets/",
			Endpoint: jsii.String(endpoint), Exempt: exempt, Users: users, Services: []string{replicator, datasync}, ArchiveAfterDays: 90,
			DefaultEncryptionWriters: []string{datasync},
		})
		storage.Replicate(s, "Replication", b, storage.ReplicationProps{
			RoleName: "acme-nightfall-replication", Account: account, Region: region, Source: assets, SourceKey: key,
			Destination: replica, DrRegion: "us-east-2", DestinationKeyAlias: replicaAlias,
		})
		return cdktest.Template(t, s)
	})
}

func TestAssetBucketReplicatesEveryVersionToItsReplicaUnderTheReplicaKey(t *testing.T) {
	tpl := replicatedAssets(t)
	role := cdktest.One(t, tpl, "AWS::IAM::Role", map[string]any{"Properties": map[string]any{"RoleName": "acme-nightfall-replication"}})
	cdktest.HasProperties(t, tpl, "AWS::S3::Bucket", map[string]any{
		"BucketName": assets,
		"ReplicationConfiguration": map[string]any{
			"Role": cdktest.GetAtt(role.ID, "Arn"),
			"Rules": []any{cdktest.Obj(map[string]any{
				"Status":                  "Enabled",
				"Filter":                  map[string]any{"Prefix": ""},
				"DeleteMarkerReplication": map[string]any{"Status": "Disabled"},
				"SourceSelectionCriteria": map[string]any{"SseKmsEncryptedObjects": map[string]any{"Status": "Enabled"}},
				"Destination": map[string]any{
					"Bucket":                  "arn:aws:s3:::" + replica,
					"EncryptionConfiguration": map[string]any{"ReplicaKmsKeyID": "arn:aws:kms:us-east-2:333333333333:alias/" + replicaAlias},
				},
			})},
		},
		"LifecycleConfiguration": map[string]any{"Rules": cdktest.ArrayWith(cdktest.Obj(map[string]any{
			"Id":                           "archive",
			"Transitions":                  []any{map[string]any{"StorageClass": "GLACIER_IR", "TransitionInDays": 90}},
			"NoncurrentVersionTransitions": []any{map[string]any{"StorageClass": "GLACIER_IR", "TransitionInDays": 90}},
		}))},
	})
}

func TestReplicationRoleReachesOnlyTheTwoBucketsAndKeysForS3Alone(t *testing.T) {
	tpl := replicatedAssets(t)
	role := cdktest.One(t, tpl, "AWS::IAM::Role", map[string]any{"Properties": map[string]any{"RoleName": "acme-nightfall-replication"}})
	trust := cdktest.Statements(role.Properties["AssumeRolePolicyDocument"])
	if len(trust) != 1 || !cdktest.SameSet(trust[0].Principals("Service"), []string{"s3.amazonaws.com"}) {
		t.Fatalf("trust %v: S3 alone", trust)
	}
	if src, ok := trust[0].Condition("ArnLike", "aws:SourceArn"); !ok || !cdktest.SameSet(src, []string{"arn:aws:s3:::" + assets}) {
		t.Errorf("S3 may assume the role for %v, want only the asset bucket", src)
	}
	p := cdktest.One(t, tpl, "AWS::IAM::Policy", map[string]any{"Properties": map[string]any{"Roles": []any{cdktest.Ref(role.ID)}}})
	for _, st := range cdktest.Statements(p.Properties["PolicyDocument"]) {
		for _, r := range st.Resources() {
			ok := strings.HasPrefix(r, "arn:aws:s3:::"+assets) || strings.HasPrefix(r, "arn:aws:s3:::"+replica+"/") ||
				r == "arn:aws:kms:us-east-2:333333333333:key/*" || strings.Contains(r, "AssetKey")
			if !ok {
				t.Errorf("statement %s reaches %s", st.Sid(), r)
			}
		}
		for _, a := range st.Actions() {
			if !strings.HasPrefix(a, "kms:") {
				continue
			}
			via, _ := st.Condition("StringEquals", "kms:ViaService")
			if len(via) != 1 || !strings.HasPrefix(via[0], "s3.") {
				t.Errorf("%s of statement %s outside S3: %v", a, st.Sid(), via)
			}
			if st.Sid() == "EncryptReplicasThroughS3" {
				if alias, _ := st.Condition("ForAnyValue:StringEquals", "kms:ResourceAliases"); !cdktest.SameSet(alias, []string{"alias/" + replicaAlias}) {
					t.Errorf("the replica key is named by %v, want alias/%s", alias, replicaAlias)
				}
			}
		}
		if st.Has("s3:ReplicateDelete") {
			t.Errorf("the role replicates deletes: a delete in the production would reach the copy")
		}
	}
}

func TestAssetBucketAdmitsItsServiceRolesOutsideTheEndpointButNobodyElse(t *testing.T) {
	tpl := replicatedAssets(t)
	id := bucket(t, tpl, assets).ID
	for _, st := range bucketPolicy(t, tpl, id) {
		switch st.Sid() {
		case "DenyDataAccessToAllButTheProductionsRoles":
			if who, _ := st.Condition("ArnNotLike", "aws:PrincipalArn"); !cdktest.SameSet(who, append(append([]string{}, users...), replicator, datasync)) {
				t.Errorf("data users %v, want the production's roles and the replication role", who)
			}
		case "DenyDataAccessOutsideTheProductionVpc":
			if who, _ := st.Condition("ArnNotLike", "aws:PrincipalArn"); !cdktest.SameSet(who, append(append([]string{}, exempt...), replicator, datasync)) {
				t.Errorf("exempt from the endpoint %v, want the data operator and the service roles", who)
			}
		case "DenyWritesWithoutKms", "DenyWritesWithAnotherKey":
			// DataSync writes with the bucket's default encryption, and
			// only DataSync may.
			if who, _ := st.Condition("ArnNotLike", "aws:PrincipalArn"); !cdktest.SameSet(who, []string{datasync}) {
				t.Errorf("%s spares %v, want only the DataSync role", st.Sid(), who)
			}
		case "DenyKmsWritesThatNameNoKey":
			if who, ok := st.Condition("ArnNotLike", "aws:PrincipalArn"); ok {
				t.Errorf("%s spares %v: nobody may ask for aws:kms without the key", st.Sid(), who)
			}
		}
	}
}

func TestHardenedBucketServesOnlyItsUsersAndOnlyWithItsKey(t *testing.T) {
	tpl := hardened.Get(t, func() assertions.Template {
		s := cdktest.NewStack(t, account, "us-east-2")
		storage.NewHardenedBucket(s, "Replica", storage.HardenedBucketProps{
			Name: replica, Key: awskms.NewKey(s, jsii.String("ReplicaKey"), nil), AccessLogs: storage.NewAccessLogBucket(s, "AccessLogs", logs),
			LogPrefix: "replica/", Users: []string{replicator}, Lifecycle: storage.ReplicaLifecycle(30),
		})
		return cdktest.Template(t, s)
	})
	id := bucket(t, tpl, replica).ID
	sids := map[string]bool{}
	for _, st := range bucketPolicy(t, tpl, id) {
		sids[st.Sid()] = true
		if st.Sid() == "DenyDataAccessToAllButTheNamedRoles" {
			if who, _ := st.Condition("ArnNotLike", "aws:PrincipalArn"); !cdktest.SameSet(who, []string{replicator}) {
				t.Errorf("users %v, want only the replication role", who)
			}
		}
	}
	for _, sid := range []string{"DenyWritesWithoutKms", "DenyWritesWithAnotherKey", "DenyKmsWritesThatNameNoKey", "DenyDataAccessToAllButTheNamedRoles"} {
		if !sids[sid] {
			t.Errorf("the replica's policy has no %s", sid)
		}
	}
	cdktest.HasResource(t, tpl, "AWS::S3::Bucket", map[string]any{
		"Properties": map[string]any{
			"BucketName":                     replica,
			"PublicAccessBlockConfiguration": blockAll,
			"VersioningConfiguration":        map[string]any{"Status": "Enabled"},
			"OwnershipControls":              map[string]any{"Rules": []any{map[string]any{"ObjectOwnership": "BucketOwnerEnforced"}}},
		},
		"DeletionPolicy": "Retain",
	})
}
