package test

import (
	"sort"
	"testing"

	"github.com/renderenv/renderenv/internal/cfn"
)

// TestEveryAccountOfTheEstateIsTrailed: every API call of the estate is
// recorded (ISE 8.1, 9.4): by the organization trail, or, outside an
// organization, by a trail in each account (management and log archive
// included) delivering to the central bucket. Which accounts the estate
// has is the manifests' to say; that each trail logs, in every region, is
// RE-AUD-001's.
func TestEveryAccountOfTheEstateIsTrailed(t *testing.T) {
	checkEach(t, []estateSpec{acmeEstate, withoutOrganization(9, 3)}, checkEveryAccountOfTheEstateIsTrailed)
}

func checkEveryAccountOfTheEstateIsTrailed(s *Synthesized, logf func(string, ...any)) (f findings) {
	st := &s.Manifests.Studio
	accounts := map[string]bool{st.ManagementAccount: true, st.LogArchive(): true}
	for _, p := range s.Manifests.Productions {
		accounts[p.Account] = true
	}
	trailed := map[string][]string{}
	for _, r := range s.Assembly.Resources("AWS::CloudTrail::Trail") {
		props := r.Properties
		if !cfn.Truthy(props["IsMultiRegionTrail"]) || !cfn.Truthy(props["IsLogging"]) {
			continue // RE-AUD-001
		}
		if st.OrganizationID != "" && cfn.Truthy(props["IsOrganizationTrail"]) {
			for a := range accounts {
				trailed[a] = append(trailed[a], r.String())
			}
			continue
		}
		if bucket := r.Stack.String(props["S3BucketName"]); bucket != s.names().TrailBucket() {
			f.add("%s delivers to %s, not the central bucket %s", r, bucket, s.names().TrailBucket())
		}
		trailed[r.Stack.Account] = append(trailed[r.Stack.Account], r.String())
	}
	var missing []string
	for a := range accounts {
		if len(trailed[a]) == 0 {
			missing = append(missing, a)
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		f.add("no trail records accounts %v", missing)
	}
	return f
}
