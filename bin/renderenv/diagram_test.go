package main

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"
)

// The drawing itself is tested over a synthesized estate in test/
// (TestDiagramsMatchGoldenFilesAndRenderToSVG); here, the command's refusals.
func TestDiagramRefusals(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "cdk.out")
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"diagram", "--format", "pdf"}, 2, `renderenv diagram: --format "pdf": use svg, png or dot`},
		{[]string{"diagram", "extra"}, 2, "renderenv diagram: no positional arguments"},
		{[]string{"diagram", "--dir", acme, "--assembly", missing}, 1, "renderenv diagram: "},
	} {
		var stdout, stderr bytes.Buffer
		if code := run(tc.args, &stdout, &stderr); code != tc.code || !strings.HasPrefix(stderr.String(), tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want %d and %q", tc.args[1:], code, stderr.String(), tc.code, tc.want)
		}
	}
}
