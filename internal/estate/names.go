package estate

import (
	"fmt"

	"github.com/renderenv/renderenv/internal/manifest"
)

// Names derives every fixed name in the estate from the manifests, so that
// stacks in different accounts can name each other's resources without
// looking anything up.
type Names struct{ Studio, Region, LogArchive string }

// Stack names.
func (n Names) LoggingStack() string               { return n.Studio + "-logging" }
func (n Names) NetworkStack() string               { return n.Studio + "-network" }
func (n Names) PipelineStack() string              { return n.Studio + "-pipeline" }
func (n Names) ProductionStack(name string) string { return n.Studio + "-" + name }
func (n Names) PoolStack(account string) string    { return n.Studio + "-pool-" + account }
func (n Names) LinkStack(network string) string    { return network + "-link" }

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
func (n Names) LoggingKeyAliasArn() string {
	return fmt.Sprintf("arn:aws:kms:%s:%s:alias/%s", n.Region, n.LogArchive, n.LoggingKeyAlias())
}

// Per-production names.
func (n Names) AssetBucket(p manifest.Resolved) string {
	return manifest.AssetBucketName(n.Studio, p.Name, p.Account, p.Region)
}
func (n Names) AccessLogBucket(owner, account, region string) string {
	return fmt.Sprintf("%s-s3logs-%s-%s-%s", n.Studio, owner, account, region)
}
func (n Names) KeyAlias(owner string, purpose string) string {
	return n.Studio + "/" + owner + "/" + purpose
}

// AssetBucketPrefix is the ARN prefix of every asset bucket of the studio's
// productions (and of nothing else the studio creates).
func (n Names) AssetBucketPattern(account, region string) string {
	return fmt.Sprintf("arn:aws:s3:::%s-*-assets-%s-%s", n.Studio, account, region)
}
