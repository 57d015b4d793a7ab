package evidence

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/renderenv/renderenv/internal/cfn"
)

// Helpers over the property values of a resource (cfn.Resource.Properties).

// accountsIn records, for each 12-digit account id written anywhere in v,
// the first property path (and its text) that names it.
func accountsIn(v any, path string, into map[string][2]string) {
	switch t := v.(type) {
	case string:
		// Runs of exactly 12 digits, scanned by hand: this walks every
		// property of every pack's stacks.
		for i := 0; i < len(t); {
			j := i
			for j < len(t) && t[j] >= '0' && t[j] <= '9' {
				j++
			}
			if j == i {
				i++
				continue
			}
			if run := t[i:j]; len(run) == 12 {
				if _, seen := into[run]; !seen {
					into[run] = [2]string{path, t}
				}
			}
			i = j
		}
	case map[string]any:
		for _, k := range slices.Sorted(maps.Keys(t)) {
			next := k
			if strings.HasPrefix(k, "Fn::") || k == "Ref" {
				next = ""
			}
			accountsIn(t[k], joinPath(path, next), into)
		}
	case []any:
		for i, x := range t {
			accountsIn(x, fmt.Sprintf("%s[%d]", path, i), into)
		}
	}
}

func joinPath(a, b string) string {
	switch {
	case b == "":
		return a
	case a == "":
		return b
	}
	return a + "." + b
}

func anyOf(xs []string, f func(string) bool) bool {
	return slices.ContainsFunc(xs, f)
}

// strs returns the string items of a value that is a string or a list.
func strs(v any) []string {
	var out []string
	for _, x := range cfn.AsList(v) {
		if s, ok := x.(string); ok {
			out = append(out, s)
		}
	}
	return out
}
