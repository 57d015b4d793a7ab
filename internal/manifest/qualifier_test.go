package manifest

import (
	"regexp"
	"testing"
)

// The CDK's qualifier: at most 10 of [A-Za-z0-9_-], lower case as it names
// the staging bucket.
var cdkQualifier = regexp.MustCompile(`^[a-z0-9_-]{1,10}$`)

func TestBootstrapQualifierIsTheStudioNameWithinTheCDKsRules(t *testing.T) {
	for studio, want := range map[string]string{"acme": "acme", "render-co": "renderco", "abcdefghijkl": "abcdefghij", "a-b-c-d-e-f": "abcdef"} {
		s := Studio{Studio: studio}
		if got := s.BootstrapQualifier(); got != want || !cdkQualifier.MatchString(got) {
			t.Errorf("studio %s: qualifier %q, want %q", studio, got, want)
		}
	}
}
