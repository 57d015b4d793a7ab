package test

import (
	"sort"
	"strings"
	"testing"
)

// stackAccount is the account a stack of s deploys into, from the manifests.
func (s *Synthesized) stackAccount(stack string) string {
	st := &s.Manifests.Studio
	switch {
	case stack == st.Studio+"-logging":
		return st.LogArchive()
	case stack == s.NetworkStack() || strings.HasSuffix(stack, "-link"):
		return st.ManagementAccount
	case strings.HasPrefix(stack, st.Studio+"-pool-"):
		return strings.TrimPrefix(stack, st.Studio+"-pool-")
	}
	for _, p := range s.Manifests.Productions {
		if stack == st.Studio+"-"+p.Name {
			return p.Account
		}
	}
	return ""
}

// TestEveryAccountOfTheEstateIsTrailed: every API call of the estate is
// recorded (ISE 8.1, 9.4): by the organization trail, or, outside an
// organization, by a trail in each account (management and log archive
// included) delivering to the central bucket.
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
	for _, r := range s.Templates.All("AWS::CloudTrail::Trail") {
		props := r.Props
		if !isTrue(props["IsMultiRegionTrail"]) || !isTrue(props["IsLogging"]) {
			f.add("%s: not a logging multi-region trail", r)
			continue
		}
		if st.OrganizationID != "" && isTrue(props["IsOrganizationTrail"]) {
			for a := range accounts {
				trailed[a] = append(trailed[a], r.String())
			}
			continue
		}
		if bucket, _ := props["S3BucketName"].(string); bucket != "" && !strings.HasPrefix(bucket, st.Studio+"-audit-") {
			f.add("%s delivers to %s, not the central bucket", r, bucket)
		}
		a := s.stackAccount(r.Stack)
		trailed[a] = append(trailed[a], r.String())
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
