// Package exchange creates a production's vendor exchange (reference 000):
// a bucket in the studio's exchange account, encrypted with a key of its
// own, with one prefix per vendor, and a role per vendor that the vendor's
// account may assume, with an external id and only until the vendor's
// date, to read (or also write) that prefix and nothing else.
package exchange

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/renderenv/renderenv/constructs/keys"
	"github.com/renderenv/renderenv/constructs/storage"
	"github.com/renderenv/renderenv/constructs/tagging"
)

// ExpireAfterDays is how long an object stays in an exchange bucket: the
// exchange is a hand-over, never a second copy of the production's content.
const ExpireAfterDays = 30

// Vendor is one vendor's access.
type Vendor struct {
	// Name is the vendor's prefix (Name/) of the bucket.
	Name string
	// Account is the vendor's AWS account, whose principals (as the
	// vendor decides) may assume RoleName with ExternalID.
	Account, RoleName, ExternalID string
	// Until is the last day (YYYY-MM-DD) the role may be assumed or used,
	// through 23:59:59 UTC.
	Until string
	// Write lets the vendor put objects under its prefix, beside reading.
	Write bool
}

// Expiry is the aws:CurrentTime after which a vendor's role is refused.
func (v Vendor) Expiry() string { return v.Until + "T23:59:59Z" }

// Writer is a role of another account (a production's data operator) that
// may put objects into the exchange bucket, for any vendor.
type Writer struct{ Account, RoleArn string }

// Props describe one production's exchange.
type Props struct {
	// Bucket and AccessLogBucket are the exchange bucket's name and its
	// server access log bucket's.
	Bucket, AccessLogBucket string
	// KeyAlias is the exchange key's alias without alias/.
	KeyAlias        string
	Account, Region string
	// KeyAdmins administer the exchange key (keys.KeyProps.Admins).
	KeyAdmins []string
	Vendors   []Vendor
	Writers   []Writer
	// WriterSourceCidrs are the only ranges the writers deliver from (the
	// studio's admin ranges): a copy of a writer's session is useless
	// elsewhere.
	WriterSourceCidrs []string
}

// Exchange is the exchange bucket, its key and the vendor roles by name.
type Exchange struct {
	constructs.Construct
	Bucket awss3.Bucket
	Key    *keys.Key
	Roles  map[string]awsiam.Role
}

// Read and write actions of a vendor on its own prefix.
var (
	ReadActions  = []string{"s3:GetObject", "s3:GetObjectVersion"}
	WriteActions = []string{"s3:PutObject", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"}
	// WriterActions are what a production's data operator may do in the
	// bucket: deliver, never read a vendor's work back through it.
	WriterActions = []string{"s3:PutObject", "s3:AbortMultipartUpload"}
)

// New creates the exchange.
func New(scope constructs.Construct, id string, props Props) *Exchange {
	c := constructs.NewConstruct(scope, jsii.String(id))
	x := &Exchange{Construct: c, Roles: map[string]awsiam.Role{}}
	bucketArn := "arn:aws:s3:::" + props.Bucket
	s3Service := fmt.Sprintf("s3.%s.amazonaws.com", props.Region)
	x.Key = keys.NewKey(c, "Key", keys.KeyProps{
		Alias:       props.KeyAlias,
		Description: "Exchange key of " + props.Bucket + ": vendors and the production's data operator use it through S3 for that bucket only",
		Account:     props.Account,
		Admins:      props.KeyAdmins,
	})
	tagging.Group(x.Key.Construct, tagging.Security)
	var users, readers, writers []string
	for _, v := range props.Vendors {
		arn := fmt.Sprintf("arn:aws:iam::%s:role/%s", props.Account, v.RoleName)
		users = append(users, arn)
		readers = append(readers, arn)
		if v.Write {
			writers = append(writers, arn)
		}
	}
	throughS3 := func(extra map[string]any) *map[string]any {
		cond := map[string]any{"StringEquals": map[string]any{
			"kms:ViaService":                   s3Service,
			"kms:EncryptionContext:aws:s3:arn": bucketArn,
		}}
		for k, v := range extra {
			cond[k] = v
		}
		return &cond
	}
	addKey := func(sid, account string, actions, roles []string) {
		if len(roles) == 0 {
			return
		}
		x.Key.Key.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:        jsii.String(sid),
			Principals: &[]awsiam.IPrincipal{awsiam.NewAccountPrincipal(jsii.String(account))},
			Actions:    jsii.Strings(actions...),
			Resources:  jsii.Strings("*"),
			Conditions: throughS3(map[string]any{"ArnLike": map[string]any{"aws:PrincipalArn": roles}}),
		}), jsii.Bool(false))
	}
	addKey("VendorsDecryptThroughS3ForTheExchangeBucket", props.Account, []string{"kms:Decrypt"}, readers)
	addKey("WritingVendorsEncryptThroughS3ForTheExchangeBucket", props.Account, []string{"kms:Encrypt", "kms:GenerateDataKey"}, writers)
	for _, w := range props.Writers {
		users = append(users, w.RoleArn)
		// Multipart uploads decrypt the data key of each part.
		addKey("ProductionWriterEncryptsThroughS3"+w.Account, w.Account, []string{"kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"}, []string{w.RoleArn})
	}

	logs := storage.NewAccessLogBucket(c, "AccessLogs", props.AccessLogBucket)
	tagging.Group(logs, tagging.Logging)
	x.Bucket = storage.NewHardenedBucket(c, "Bucket", storage.HardenedBucketProps{
		Name: props.Bucket, Key: x.Key.Key, AccessLogs: logs, LogPrefix: "exchange/", Users: users,
		Lifecycle: []*awss3.LifecycleRule{{
			Id:                                  jsii.String("hand-over-only"),
			Expiration:                          awscdk.Duration_Days(jsii.Number(ExpireAfterDays)),
			NoncurrentVersionExpiration:         awscdk.Duration_Days(jsii.Number(1)),
			AbortIncompleteMultipartUploadAfter: awscdk.Duration_Days(jsii.Number(7)),
		}},
	})
	tagging.Group(x.Bucket, tagging.AssetStorage)
	for _, w := range props.Writers {
		// The writer is of another account: the bucket policy must allow
		// it too, by its exact ARN.
		x.Bucket.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:        jsii.String("ProductionWriterDelivers" + w.Account),
			Principals: &[]awsiam.IPrincipal{awsiam.NewAccountPrincipal(jsii.String(w.Account))},
			Actions:    jsii.Strings(WriterActions...),
			Resources:  jsii.Strings(bucketArn + "/*"),
			Conditions: &map[string]any{"ArnEquals": map[string]any{"aws:PrincipalArn": w.RoleArn}},
		}))
	}
	if len(props.Writers) > 0 && len(props.WriterSourceCidrs) > 0 {
		var arns []string
		for _, w := range props.Writers {
			arns = append(arns, w.RoleArn)
		}
		x.Bucket.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:        jsii.String("DenyWritersOutsideTheStudiosRanges"),
			Effect:     awsiam.Effect_DENY,
			Principals: &[]awsiam.IPrincipal{awsiam.NewAnyPrincipal()},
			Actions:    jsii.Strings(storage.DataActions...),
			Resources:  jsii.Strings(bucketArn, bucketArn+"/*"),
			Conditions: &map[string]any{
				"ArnLike":      map[string]any{"aws:PrincipalArn": arns},
				"NotIpAddress": map[string]any{"aws:SourceIp": props.WriterSourceCidrs},
			},
		}))
	}
	for _, v := range props.Vendors {
		x.Roles[v.Name] = vendorRole(c, v, bucketArn, x.Key.Key.KeyArn(), s3Service)
	}
	return x
}

// vendorRole is the role one vendor's account assumes: with its external
// id and before its date only, on its own prefix only.
func vendorRole(scope constructs.Construct, v Vendor, bucketArn string, keyArn *string, s3Service string) awsiam.Role {
	role := awsiam.NewRole(scope, jsii.String("Vendor-"+v.Name), &awsiam.RoleProps{
		RoleName:           jsii.String(v.RoleName),
		Description:        jsii.String(fmt.Sprintf("Vendor %s (account %s): %s its own prefix %s/ of the exchange bucket until %s", v.Name, v.Account, access(v), v.Name, v.Until)),
		MaxSessionDuration: awscdk.Duration_Hours(jsii.Number(1)),
		AssumedBy: awsiam.NewAccountPrincipal(jsii.String(v.Account)).WithConditions(&map[string]any{
			"StringEquals": map[string]any{"sts:ExternalId": v.ExternalID},
			"DateLessThan": map[string]any{"aws:CurrentTime": v.Expiry()},
		}),
	})
	tagging.Group(role, tagging.Security)
	prefix := bucketArn + "/" + v.Name + "/*"
	objects := ReadActions
	keyUse := []string{"kms:Decrypt"}
	if v.Write {
		objects = append(append([]string(nil), ReadActions...), WriteActions...)
		keyUse = append(keyUse, "kms:Encrypt", "kms:GenerateDataKey")
	}
	add := func(sid string, effect awsiam.Effect, actions []string, resources []*string, conditions map[string]any) {
		role.AddToPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid: jsii.String(sid), Effect: effect, Actions: jsii.Strings(actions...), Resources: &resources, Conditions: &conditions,
		}))
	}
	add("ListOwnPrefix", awsiam.Effect_ALLOW, []string{"s3:ListBucket"}, []*string{jsii.String(bucketArn)},
		map[string]any{"StringLike": map[string]any{"s3:prefix": []string{v.Name + "/", v.Name + "/*"}}})
	add("OwnPrefixOnly", awsiam.Effect_ALLOW, objects, []*string{jsii.String(prefix)}, nil)
	add("ExchangeKeyThroughS3ForTheBucket", awsiam.Effect_ALLOW, keyUse, []*string{keyArn}, map[string]any{"StringEquals": map[string]any{
		"kms:ViaService":                   s3Service,
		"kms:EncryptionContext:aws:s3:arn": bucketArn,
	}})
	// A session opened just before the date ends with it, not an hour on.
	add("NothingAfterUntil", awsiam.Effect_DENY, append(append([]string{"s3:ListBucket"}, objects...), keyUse...),
		[]*string{jsii.String(bucketArn), jsii.String(prefix), keyArn},
		map[string]any{"DateGreaterThan": map[string]any{"aws:CurrentTime": v.Expiry()}})
	return role
}

func access(v Vendor) string {
	if v.Write {
		return "reads and writes"
	}
	return "reads"
}
