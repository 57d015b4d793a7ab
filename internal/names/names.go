// Package names derives every fixed name of an estate: stacks, roles,
// buckets, aliases, trails and parameter paths. It is plain Go, so the
// builder, the validator, the evidence pack and the tests name things the
// same way without building anything, and stacks in different accounts can
// name each other's resources without looking anything up.
package names

import (
	"fmt"
	"strings"
)

// Names are the names of one studio's estate.
type Names struct{ Studio, Region, LogArchive string }

// Stack names.
func (n Names) LoggingStack() string               { return n.Studio + "-logging" }
func (n Names) NetworkStack() string               { return n.Studio + "-network" }
func (n Names) PipelineStack() string              { return n.Studio + "-pipeline" }
func (n Names) ProductionStack(name string) string { return n.Studio + "-" + name }
func (n Names) PoolStack(account string) string    { return n.Studio + "-" + PoolPrefix + account }

// ExchangeStack holds a production's exchange bucket, key and vendor roles
// in the studio's exchange account.
func (n Names) ExchangeStack(name string) string { return n.Studio + "-" + name + ExchangeSuffix }

// DrStack holds the replica of a production's asset bucket, and its key,
// in the production's account and its ingest.drRegion.
func (n Names) DrStack(name string) string { return n.Studio + "-" + name + DrSuffix }

// LinkStack is the management-account stack that joins a production's or a
// pool's network (named by its stack) to the Transit Gateway.
func LinkStack(network string) string { return network + LinkSuffix }

// LinkStack is the link stack of a network owned by the stack named network.
func (n Names) LinkStack(network string) string { return LinkStack(network) }

// What production names may not look like: the shared stacks, the buckets
// the organization trail leaves out of its data events (<studio>-audit-*,
// <studio>-s3logs-*), pool stacks and link stacks.
const (
	PoolPrefix     = "pool-"
	LinkSuffix     = "-link"
	ExchangeSuffix = "-exchange"
	DrSuffix       = "-dr"
)

// ReservedNames are production names that would collide with the studio's
// own stacks and buckets.
var ReservedNames = []string{"audit", "logging", "management", "network", "pipeline", "pool", "s3logs", "shared"}

// ReservedPrefixes start names of the studio's own stacks and buckets.
var ReservedPrefixes = []string{"audit-", "s3logs-", PoolPrefix}

// Role suffixes: a production's roles are <studio>-<production>-<suffix>,
// fixed so that key and bucket policies name them before they exist.
const (
	KeyAdmin     = "key-admin"
	DataOperator = "data-operator"
	LogReader    = "log-reader"
	Render       = "render"
	Launcher     = "launcher"
	TgwReader    = "tgw-reader"
	// LinkLookup is the management-account role a link stack finds its
	// network's attachment with; only it may assume TgwReader.
	LinkLookup = "link-lookup"
)

// Role is the name of a role of the stack or production named prefix.
func Role(prefix, suffix string) string { return prefix + "-" + suffix }

// RoleArn is the ARN of a role with a fixed name.
func RoleArn(account, name string) string {
	return fmt.Sprintf("arn:aws:iam::%s:role/%s", account, name)
}

// ManagementLogReader reads the management VPC's flow logs.
func (n Names) ManagementLogReader() string { return n.Studio + "-management-" + LogReader }

// Scheduler is the management account's role the render scheduler runs
// as: the one principal every launcher role trusts by default.
func (n Names) Scheduler() string { return n.Studio + "-scheduler" }

// AuditReader reads the central trail.
func (n Names) AuditReader() string { return n.Studio + "-audit-reader" }

// PoolParameters is the SSM path a pool stack publishes under.
func (n Names) PoolParameters(account string) string {
	return "/renderenv/" + n.Studio + "/pool/" + account
}

// Parameters is the SSM path the network stack publishes under.
func (n Names) Parameters() string { return "/renderenv/" + n.Studio + "/network" }

// Central logging names.
func (n Names) TrailName() string { return n.Studio + "-central" }
func (n Names) TrailBucket() string {
	return fmt.Sprintf("%s-audit-trail-%s-%s", n.Studio, n.LogArchive, n.Region)
}
func (n Names) TrailAccessLogBucket() string {
	return fmt.Sprintf("%s-s3logs-audit-%s-%s", n.Studio, n.LogArchive, n.Region)
}
func (n Names) LoggingKeyAlias() string { return n.Studio + "/audit/logging" }

// LogArchiveBucket holds the log-archive account's copies of the logs a
// production account keeps itself (VPC flow logs, Session Manager
// sessions), where that account's administrators cannot erase them.
func (n Names) LogArchiveBucket() string {
	return fmt.Sprintf("%s-audit-archive-%s-%s", n.Studio, n.LogArchive, n.Region)
}

// Prefixes of the log-archive bucket: VPC Flow Logs adds
// AWSLogs/<account>/vpcflowlogs/... below FlowLogPrefix; each production's
// render nodes write their sessions under SessionLogPrefix, and only there.
const FlowLogPrefix = "flow-logs/"

// SessionLogPrefix is where a production's sessions are archived (no
// trailing slash: Session Manager adds one before the file name).
func SessionLogPrefix(account, production string) string {
	return SessionsPrefix + account + "/" + production
}

// SessionsPrefix is the part of the log-archive bucket that holds every
// production's sessions.
const SessionsPrefix = "sessions/"

func (n Names) LoggingKeyAliasArn() string {
	return fmt.Sprintf("arn:aws:kms:%s:%s:alias/%s", n.Region, n.LogArchive, n.LoggingKeyAlias())
}

// AssetBucket is the globally unique name of a production's asset bucket.
func AssetBucket(studio, production, account, region string) string {
	return fmt.Sprintf("%s-%s-assets-%s-%s", studio, production, account, region)
}

// AssetBucket is the asset bucket of a production of this studio.
func (n Names) AssetBucket(production, account, region string) string {
	return AssetBucket(n.Studio, production, account, region)
}

// ExchangeBucket is a production's exchange bucket, in the studio's
// exchange account and the production's region: each vendor has a prefix.
func (n Names) ExchangeBucket(production, exchangeAccount, region string) string {
	return fmt.Sprintf("%s-%s-exchange-%s-%s", n.Studio, production, exchangeAccount, region)
}

// ReplicaBucket holds the disaster-recovery copy of a production's asset
// bucket, in the production's account and ingest.drRegion.
func (n Names) ReplicaBucket(production, account, drRegion string) string {
	return fmt.Sprintf("%s-%s-replica-%s-%s", n.Studio, production, account, drRegion)
}

// Key purposes of the ingest and exchange paths, beside keys.Purpose's:
// the exchange key (exchange account), the replica key (DR region) and
// the exchange account's own logging key.
const (
	ExchangeKey        = "exchange"
	ReplicaKey         = "replica"
	ExchangeLoggingKey = "exchange-logging"
)

// Ingest and exchange roles of a production (<studio>-<production>-<suffix>).
const (
	Replication = "replication"
	DataSync    = "datasync"
	// VendorPrefix starts each vendor's role: <studio>-<production>-vendor-<vendor>.
	VendorPrefix = "vendor-"
)

// VendorRole is the exchange-account role of one vendor of a production.
func (n Names) VendorRole(production, vendor string) string {
	return Role(n.ProductionStack(production), VendorPrefix+vendor)
}

// ExternalID is the sts:ExternalId a vendor passes to assume its role. It
// is derived, not secret: it keeps a vendor's other customers from having
// the vendor's tools assume this role on their behalf (the confused
// deputy), which needs only that it be unique to this studio, production
// and vendor.
func (n Names) ExternalID(production, vendor string) string {
	return "renderenv-" + n.Studio + "-" + production + "-" + vendor
}

// VendorPrefixOf is a vendor's prefix of the exchange bucket.
func VendorPrefixOf(vendor string) string { return vendor + "/" }

// IngestPrefix is where DataSync writes in the asset bucket.
const IngestPrefix = "ingest/"

// AccessLogBucket receives the server access logs of owner's buckets.
func (n Names) AccessLogBucket(owner, account, region string) string {
	return fmt.Sprintf("%s-s3logs-%s-%s-%s", n.Studio, owner, account, region)
}

// KeyAlias is the alias (without alias/) of owner's key for purpose.
func (n Names) KeyAlias(owner string, purpose string) string {
	return n.Studio + "/" + owner + "/" + purpose
}

// Sid turns a name (lower case letters, digits, hyphens) into the letters
// and digits a policy statement id allows: gpu-large becomes GpuLarge.
func Sid(name string) string {
	var b strings.Builder
	for _, part := range strings.Split(name, "-") {
		if part != "" {
			b.WriteString(strings.ToUpper(part[:1]) + part[1:])
		}
	}
	return b.String()
}
