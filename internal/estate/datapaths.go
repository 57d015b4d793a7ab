package estate

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/renderenv/renderenv/constructs/audit"
	"github.com/renderenv/renderenv/constructs/exchange"
	"github.com/renderenv/renderenv/constructs/ingest"
	"github.com/renderenv/renderenv/constructs/keys"
	"github.com/renderenv/renderenv/constructs/network"
	"github.com/renderenv/renderenv/constructs/storage"
	"github.com/renderenv/renderenv/constructs/tagging"
	"github.com/renderenv/renderenv/internal/manifest"
	"github.com/renderenv/renderenv/internal/names"
)

// A production's data paths outside its own stack (reference 000): the
// disaster-recovery copy of its asset bucket, in its account and
// ingest.drRegion, and its vendor exchange, in the studio's exchange
// account. Each is a stack of its own for that production alone, so that
// neither grows with the estate, and each names the other side by the
// fixed names of internal/names, never by a cross-stack reference.

// DataPathStackProps describe one production's DR or exchange stack.
type DataPathStackProps struct {
	Studio     *manifest.Studio
	Names      Names
	Production manifest.Resolved
	// Tags are the production's (ISE 1.2).
	Tags map[string]string
	// Logging is the central bucket's stack, which an exchange account's
	// own trail delivers to.
	Logging awscdk.Stack
}

// dataPathStack creates the stack of one data path of a production.
func dataPathStack(scope constructs.Construct, props DataPathStackProps, name, account, region, path, description string) awscdk.Stack {
	tags := withGroup(props.Tags, tagging.AssetStorage)
	tags[tagging.KeyDataPath] = path
	return NewEstateStack(scope, StackProps{
		Studio: props.Studio, Name: name, Account: account, Region: region, Tags: tags,
		Description: description,
	})
}

// prefixOf is <studio>-<production>: the production's roles.
func prefixOf(n Names, r manifest.Resolved) string { return n.ProductionStack(r.Name) }

// NewDrStack creates the replica of a production's asset bucket and the
// key it is encrypted with, in ingest.drRegion. The production stack,
// which replicates into it, deploys after it.
func NewDrStack(scope constructs.Construct, props DataPathStackProps) awscdk.Stack {
	s, n, r := props.Studio, props.Names, props.Production
	dr := r.Ingest.DrRegion
	prefix := prefixOf(n, r)
	st := dataPathStack(scope, props, n.DrStack(r.Name), r.Account, dr, tagging.DataPathReplica,
		fmt.Sprintf("%s production %s: disaster-recovery copy of its asset bucket in %s, encrypted with a key of that region", s.Studio, r.Name, dr))
	users := []string{names.RoleArn(r.Account, names.Role(prefix, names.Replication)), names.RoleArn(r.Account, names.Role(prefix, names.DataOperator))}
	key := keys.NewKey(st, "ReplicaKey", keys.KeyProps{
		Alias:       n.KeyAlias(r.Name, names.ReplicaKey),
		Description: prefix + " replica key: encrypts the disaster-recovery copy of the asset bucket",
		Account:     r.Account,
		Admins:      keyAdmins(s, r.Account, dr, names.RoleArn(r.Account, names.Role(prefix, names.KeyAdmin))),
	})
	key.AllowUseVia("ReplicationAndDataOperatorThroughS3", users, fmt.Sprintf("s3.%s.amazonaws.com", dr))
	tagging.Group(key.Construct, tagging.Security)
	logs := storage.NewAccessLogBucket(st, "AccessLogs", n.AccessLogBucket(r.Name, r.Account, dr))
	tagging.Group(logs, tagging.Logging)
	storage.NewHardenedBucket(st, "Replica", storage.HardenedBucketProps{
		Name: n.ReplicaBucket(r.Name, r.Account, dr), Key: key.Key, AccessLogs: logs, LogPrefix: "replica/",
		Users: users, Lifecycle: storage.ReplicaLifecycle(int(r.Ingest.ArchiveAfterDays)),
	})
	return st
}

// NewExchangeStack creates a production's exchange bucket, key and vendor
// roles in the studio's exchange account, in the production's region.
func NewExchangeStack(scope constructs.Construct, props DataPathStackProps) awscdk.Stack {
	s, n, r := props.Studio, props.Names, props.Production
	acct := s.ExchangeAccount
	st := dataPathStack(scope, props, n.ExchangeStack(r.Name), acct, r.Region, tagging.DataPathExchange,
		fmt.Sprintf("%s production %s: vendor exchange bucket, its key and %d vendor roles, each on its own prefix until its date", s.Studio, r.Name, len(r.Vendors)))
	var vendors []exchange.Vendor
	for _, v := range r.Vendors {
		vendors = append(vendors, exchange.Vendor{
			Name: v.Name, Account: v.Account, RoleName: n.VendorRole(r.Name, v.Name),
			ExternalID: n.ExternalID(r.Name, v.Name), Until: v.Until.String(), Write: v.Access == manifest.VendorWrite,
		})
	}
	bucket := n.ExchangeBucket(r.Name, acct, r.Region)
	x := exchange.New(st, "Exchange", exchange.Props{
		Bucket: bucket, AccessLogBucket: n.AccessLogBucket(r.Name, acct, r.Region),
		KeyAlias: n.KeyAlias(r.Name, names.ExchangeKey), Account: acct, Region: r.Region,
		KeyAdmins: keyAdmins(s, acct, r.Region),
		Vendors:   vendors,
		Writers:   []exchange.Writer{{Account: r.Account, RoleArn: names.RoleArn(r.Account, names.Role(prefixOf(n, r), names.DataOperator))}},
		// The data operator works from the studio's ranges only.
		WriterSourceCidrs: strs(s.AdminSourceCidrs),
	})
	// Writers name the exchange key in every write (the bucket refuses any
	// other); its ARN is not secret, and the exchange account's stack
	// shows it to whoever hands it to the vendors and the data operator.
	awscdk.NewCfnOutput(st, jsii.String("ExchangeKeyArn"), &awscdk.CfnOutputProps{
		Description: jsii.String("The key every write to " + bucket + " must name (--sse aws:kms --sse-kms-key-id)"),
		Value:       x.Key.Key.KeyArn(),
	})
	if ownTrail(s, acct) {
		// Outside an organization the exchange account records its own
		// activity, and every read and write of the bucket.
		logKey := keys.NewKey(st, "LoggingKey", keys.KeyProps{
			Alias:       n.KeyAlias(r.Name, names.ExchangeLoggingKey),
			Description: n.ExchangeStack(r.Name) + " logging key: encrypts the exchange account's trail log group and alarm topic",
			Account:     acct,
			Admins:      keyAdmins(s, acct, r.Region),
		})
		logKey.AllowLogs(r.Region)
		logKey.AllowAlarms(acct)
		tagging.Group(logKey.Construct, tagging.Logging)
		newAccountTrail(st, accountTrailProps{
			Studio: s, Names: n, Name: n.ExchangeStack(r.Name), Account: acct, Region: r.Region,
			LogGroup: "/" + n.ExchangeStack(r.Name) + "/cloudtrail", Key: logKey.Key, Logging: props.Logging,
			DataEvents: audit.DataEvents{StartsWith: []string{"arn:aws:s3:::" + bucket + "/"}},
		})
	}
	return st
}

// exchangeAccounts is the exchange account when a production of the estate
// has vendors: it then runs a trail of its own outside an organization.
func exchangeAccounts(s *manifest.Studio, resolved []manifest.Resolved) []string {
	for _, r := range resolved {
		if len(r.Vendors) > 0 {
			return []string{s.ExchangeAccount}
		}
	}
	return nil
}

// ingestRoles are the roles only AWS services assume for a production's
// ingest: S3 replication, and DataSync with an agent.
func ingestRoles(r manifest.Resolved, role func(string) string) []string {
	if r.Ingest == nil {
		return nil
	}
	return append([]string{role(names.Replication)}, dataSyncRole(r, role)...)
}

// drRegions is the production's DR region, whose replica key its key
// administrator administers too.
func drRegions(r manifest.Resolved) []string {
	if r.Ingest == nil {
		return nil
	}
	return []string{r.Ingest.DrRegion}
}

// dataSyncRole is the DataSync role of a production with an agent.
func dataSyncRole(r manifest.Resolved, role func(string) string) []string {
	if r.Ingest == nil || r.Ingest.DataSyncAgentArn == "" {
		return nil
	}
	return []string{role(names.DataSync)}
}

// ingest adds the production's DataSync endpoint and task, and replicates
// its asset bucket to the DR stack's replica.
func (p *Production) ingest() {
	r, n := p.Resolved, p.props.Names
	in := r.Ingest
	if in == nil {
		return
	}
	dependsOn(p.Stack, p.props.Dr, "replicates its asset bucket into the replica bucket of the DR stack")
	var agent *ingest.Agent
	if in.DataSyncAgentArn != "" {
		agent = &ingest.Agent{
			Arn: in.DataSyncAgentArn, NFSServer: in.NFSServer, NFSExport: in.NFSExport,
			Bucket: n.AssetBucket(r.Name, r.Account, r.Region), BucketKey: p.Keys[keys.ContentAsset], Prefix: names.IngestPrefix,
			RoleName: names.Role(p.prefix, names.DataSync), LogKey: p.Keys[keys.Logging], LogGroup: "/" + p.prefix + "/datasync",
		}
	}
	ing := ingest.New(p.Stack, "Ingest", ingest.Props{
		Prefix: p.prefix, Account: r.Account, Region: r.Region, Vpc: p.Vpc, Subnets: network.EndpointsTier,
		OnPremCidrs: strs(p.props.Studio.OnPremises.Cidrs), Agent: agent,
	})
	tagging.Group(ing.Construct, tagging.AssetStorage)
	role := storage.Replicate(p.Stack, "Replication", p.Bucket, storage.ReplicationProps{
		RoleName: names.Role(p.prefix, names.Replication), Account: r.Account, Region: r.Region,
		Source: n.AssetBucket(r.Name, r.Account, r.Region), SourceKey: p.Keys[keys.ContentAsset],
		Destination: n.ReplicaBucket(r.Name, r.Account, in.DrRegion), DrRegion: in.DrRegion,
		DestinationKeyAlias: n.KeyAlias(r.Name, names.ReplicaKey),
	})
	tagging.Group(role, tagging.Security)
	// The data operator restores from the copy.
	replica := "arn:aws:s3:::" + n.ReplicaBucket(r.Name, r.Account, in.DrRegion)
	p.Roles.DataOperator.AddToPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:       jsii.String("ReadTheReplica"),
		Actions:   jsii.Strings("s3:GetObject", "s3:GetObjectVersion", "s3:ListBucket"),
		Resources: jsii.Strings(replica, replica+"/*"),
	}))
	p.Roles.DataOperator.AddToPolicy(remoteKeyThroughS3("ReplicaKeyThroughS3", []string{"kms:Decrypt"}, r.Account, in.DrRegion, "alias/"+n.KeyAlias(r.Name, names.ReplicaKey)))
}

// exchangeAccess lets the data operator deliver into the production's
// exchange bucket (another account's), with its key through S3.
func (p *Production) exchangeAccess() {
	r, n, s := p.Resolved, p.props.Names, p.props.Studio
	if len(r.Vendors) == 0 {
		return
	}
	bucket := "arn:aws:s3:::" + n.ExchangeBucket(r.Name, s.ExchangeAccount, r.Region)
	p.Roles.DataOperator.AddToPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:       jsii.String("DeliverToTheExchange"),
		Actions:   jsii.Strings(exchange.WriterActions...),
		Resources: jsii.Strings(bucket + "/*"),
	}))
	p.Roles.DataOperator.AddToPolicy(remoteKeyThroughS3("ExchangeKeyThroughS3", []string{"kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"}, s.ExchangeAccount, r.Region, "alias/"+n.KeyAlias(r.Name, names.ExchangeKey)))
}

// remoteKeyThroughS3 allows actions on the key of another stack (region or
// account) that alias names there, through S3 only: its id is not known
// here, so kms:ResourceAliases names it.
func remoteKeyThroughS3(sid string, actions []string, account, region, alias string) awsiam.PolicyStatement {
	return awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:       jsii.String(sid),
		Actions:   jsii.Strings(actions...),
		Resources: jsii.Strings(fmt.Sprintf("arn:aws:kms:%s:%s:key/*", region, account)),
		Conditions: &map[string]any{
			"StringEquals":             map[string]any{"kms:ViaService": fmt.Sprintf("s3.%s.amazonaws.com", region)},
			"ForAnyValue:StringEquals": map[string]any{"kms:ResourceAliases": alias},
		},
	})
}

// archiveAfter is the days after which the asset bucket moves content to
// colder storage: ingest.archiveAfterDays, or never without ingest.
func archiveAfter(r manifest.Resolved) int {
	if r.Ingest == nil {
		return 0
	}
	return int(r.Ingest.ArchiveAfterDays)
}
