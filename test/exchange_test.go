package test

import (
	"strings"
	"testing"

	"github.com/renderenv/renderenv/internal/access"
)

// The vendor exchange, decided by the IAM evaluator over the acme
// templates: each vendor reaches its own prefix and nothing else of the
// production, and nothing at all after its date; the exchange account's
// administrator reads nothing of the production. Each row is looked up by
// what it asks, so that a row the matrix stops building fails here too.
func TestVendorsReachOnlyTheirPrefixUntilTheirDate(t *testing.T) {
	s := synth(t, acmeEstate)
	m := matrixOf(t, s, nil, "nightfall")
	const exchange = "acme-nightfall-exchange-121212121212-us-west-2/"
	for _, tc := range []struct {
		name, principal, action, target, via string
		allowed                              bool
	}{
		{"lumen reads its prefix", "acme-nightfall-vendor-lumen", access.GetObject, exchange + "lumen/", "on its last day", true},
		{"lumen, read-only, cannot write its prefix", "acme-nightfall-vendor-lumen", access.PutObject, exchange + "lumen/", "on its last day", false},
		{"lumen cannot read pixelworks' prefix", "acme-nightfall-vendor-lumen", access.GetObject, exchange + "pixelworks/", "on its last day", false},
		{"lumen reads nothing the day after its date", "acme-nightfall-vendor-lumen", access.GetObject, exchange + "lumen/", "the day after its last day", false},
		{"pixelworks writes its prefix", "acme-nightfall-vendor-pixelworks", access.PutObject, exchange + "pixelworks/", "on its last day", true},
		{"pixelworks cannot write lumen's prefix", "acme-nightfall-vendor-pixelworks", access.PutObject, exchange + "lumen/", "on its last day", false},
		{"a vendor cannot read the asset bucket", "acme-nightfall-vendor-pixelworks", access.GetObject, "acme-nightfall-assets-333333333333-us-west-2", "on its last day", false},
		{"a vendor cannot have S3 use the asset key", "acme-nightfall-vendor-pixelworks", access.Decrypt, "alias/acme/nightfall/content-asset", "by S3", false},
		{"lumen's account assumes its role with the external id", "a principal of vendor lumen's account", access.AssumeRole, "acme-nightfall-vendor-lumen", "on its last day", true},
		{"lumen's account cannot assume it without the external id", "a principal of vendor lumen's account", access.AssumeRole, "acme-nightfall-vendor-lumen", "without the external id", false},
		{"lumen's account cannot assume it after the date", "a principal of vendor lumen's account", access.AssumeRole, "acme-nightfall-vendor-lumen", "the day after", false},
		{"pixelworks' account cannot assume lumen's role", "a principal of vendor pixelworks's account", access.AssumeRole, "acme-nightfall-vendor-lumen", "on its last day", false},
		{"the exchange account's admin cannot read the asset bucket", "admin of the exchange account 121212121212", access.GetObject, "acme-nightfall-assets-333333333333-us-west-2", "from the admin range", false},
		{"the exchange account's admin cannot read a vendor's prefix", "admin of the exchange account 121212121212", access.GetObject, exchange + "lumen/", "from the admin range", false},
		{"the exchange account's admin cannot use the asset key", "admin of the exchange account 121212121212", access.Decrypt, "alias/acme/nightfall/content-asset", "from the admin range", false},
		{"the data operator delivers to a vendor", "acme-nightfall-data-operator", access.PutObject, exchange + "lumen/", "from the admin range", true},
		{"the data operator cannot read a vendor's work back", "acme-nightfall-data-operator", access.GetObject, exchange + "pixelworks/", "from the admin range", false},
		{"a stolen data operator session cannot deliver", "acme-nightfall-data-operator", access.PutObject, exchange + "lumen/", "stolen session", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var found []access.Row
			for _, r := range m.Rows {
				if r.Principal.Label == tc.principal && r.Action == tc.action && strings.HasPrefix(r.Target.Label, tc.target) && strings.Contains(r.Via, tc.via) {
					found = append(found, r)
				}
			}
			if len(found) == 0 {
				t.Fatalf("the matrix has no row %s %s on %s (%s)", tc.principal, tc.action, tc.target, tc.via)
			}
			for _, r := range found {
				if r.Allowed() != tc.allowed {
					t.Errorf("allowed %v, want %v: %s", r.Allowed(), tc.allowed, r)
				}
			}
		})
	}
}
