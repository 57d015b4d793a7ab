package names

import "testing"

func TestNamesOfTheExampleStudio(t *testing.T) {
	n := Names{Studio: "acme", Region: "us-west-2", LogArchive: "222222222222"}
	for _, c := range []struct{ got, want string }{
		{n.LoggingStack(), "acme-logging"},
		{n.NetworkStack(), "acme-network"},
		{n.PipelineStack(), "acme-pipeline"},
		{n.ProductionStack("nightfall"), "acme-nightfall"},
		{n.PoolStack("555555555555"), "acme-pool-555555555555"},
		{n.LinkStack("acme-nightfall"), "acme-nightfall-link"},
		{Role("acme-nightfall", Launcher), "acme-nightfall-launcher"},
		{RoleArn("333333333333", Role("acme-nightfall", DataOperator)), "arn:aws:iam::333333333333:role/acme-nightfall-data-operator"},
		{n.AssetBucket("nightfall", "333333333333", "us-west-2"), "acme-nightfall-assets-333333333333-us-west-2"},
		{n.AccessLogBucket("nightfall", "333333333333", "us-west-2"), "acme-s3logs-nightfall-333333333333-us-west-2"},
		{n.TrailBucket(), "acme-audit-trail-222222222222-us-west-2"},
		{n.TrailAccessLogBucket(), "acme-s3logs-audit-222222222222-us-west-2"},
		{n.LoggingKeyAliasArn(), "arn:aws:kms:us-west-2:222222222222:alias/acme/audit/logging"},
		{n.LogArchiveBucket(), "acme-audit-archive-222222222222-us-west-2"},
		{SessionLogPrefix("333333333333", "nightfall"), "sessions/333333333333/nightfall"},
		{n.KeyAlias("nightfall", "logging"), "acme/nightfall/logging"},
		{n.PoolParameters("555555555555"), "/renderenv/acme/pool/555555555555"},
		{n.Parameters(), "/renderenv/acme/network"},
		{n.ManagementLogReader(), "acme-management-log-reader"},
		{n.AuditReader(), "acme-audit-reader"},
		{n.DrStack("nightfall"), "acme-nightfall-dr"},
		{n.ExchangeStack("nightfall"), "acme-nightfall-exchange"},
		{n.ExchangeBucket("nightfall", "121212121212", "us-west-2"), "acme-nightfall-exchange-121212121212-us-west-2"},
		{n.ReplicaBucket("nightfall", "333333333333", "us-east-2"), "acme-nightfall-replica-333333333333-us-east-2"},
		{n.VendorRole("nightfall", "lumen"), "acme-nightfall-vendor-lumen"},
		{n.ExternalID("nightfall", "lumen"), "renderenv-acme-nightfall-lumen"},
		{VendorPrefixOf("lumen"), "lumen/"},
		{Role("acme-nightfall", Replication), "acme-nightfall-replication"},
	} {
		if c.got != c.want {
			t.Errorf("got %q, want %q", c.got, c.want)
		}
	}
}

// TestReservedNamesCoverTheStudiosOwnStacks: a production named like a
// shared stack, a pool or a link would collide with it.
func TestReservedNamesCoverTheStudiosOwnStacks(t *testing.T) {
	n := Names{Studio: "acme"}
	reserved := func(name string) bool {
		for _, r := range ReservedNames {
			if name == r {
				return true
			}
		}
		for _, p := range ReservedPrefixes {
			if len(name) >= len(p) && name[:len(p)] == p {
				return true
			}
		}
		return len(name) > len(LinkSuffix) && name[len(name)-len(LinkSuffix):] == LinkSuffix
	}
	for _, stack := range []string{n.LoggingStack(), n.NetworkStack(), n.PipelineStack(), n.PoolStack("555555555555"), n.LinkStack(n.ProductionStack("x"))} {
		if name := stack[len("acme-"):]; !reserved(name) {
			t.Errorf("a production named %q would be the stack %s", name, stack)
		}
	}
}
