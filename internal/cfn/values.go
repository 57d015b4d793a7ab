package cfn

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// Helpers over parsed JSON values.

// AsMap returns v as an object, or nil.
func AsMap(v any) map[string]any {
	m, _ := v.(map[string]any)
	return m
}

// AsList returns v as a list; a single value is a list of one, nil none.
func AsList(v any) []any {
	switch t := v.(type) {
	case nil:
		return nil
	case []any:
		return t
	case []string:
		out := make([]any, len(t))
		for i, s := range t {
			out[i] = s
		}
		return out
	default:
		return []any{v}
	}
}

// Str returns a scalar as a string: strings as they are, numbers and
// booleans formatted; anything else (an intrinsic function) is "".
func Str(v any) string {
	switch t := v.(type) {
	case string:
		return t
	case float64:
		return strconv.FormatFloat(t, 'f', -1, 64)
	case int:
		return strconv.Itoa(t)
	case int64:
		return strconv.FormatInt(t, 10)
	case bool:
		return strconv.FormatBool(t)
	case json.Number:
		return t.String()
	}
	return ""
}

// Truthy is CloudFormation's idea of true: true or "true".
func Truthy(v any) bool {
	switch t := v.(type) {
	case bool:
		return t
	case string:
		return strings.EqualFold(t, "true")
	}
	return false
}

// Falsy is false or "false": explicitly false, not merely absent.
func Falsy(v any) bool {
	switch t := v.(type) {
	case bool:
		return !t
	case string:
		return strings.EqualFold(t, "false")
	}
	return false
}

// Number reads a number written as a number or a numeric string.
func Number(v any) (float64, bool) {
	switch t := v.(type) {
	case float64:
		return t, true
	case int:
		return float64(t), true
	case int64:
		return float64(t), true
	case json.Number:
		f, err := t.Float64()
		return f, err == nil
	case string:
		f, err := strconv.ParseFloat(strings.TrimSpace(t), 64)
		return f, err == nil
	}
	return 0, false
}

// Present reports whether a property is set to something other than an
// empty string.
func Present(v any) bool {
	if v == nil {
		return false
	}
	if s, ok := v.(string); ok {
		return s != ""
	}
	return true
}

// Compact renders a value on one line: strings as they are, anything else
// as JSON.
func Compact(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// Clone deep-copies a parsed JSON value, for tests that inject faults.
func Clone[T any](v T) T {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	var out T
	if err := json.Unmarshal(b, &out); err != nil {
		panic(err)
	}
	return out
}

// Glob matches IAM wildcards case-insensitively: * any run of characters,
// ? one character.
func Glob(pattern, s string) bool {
	pattern, s = strings.ToLower(pattern), strings.ToLower(s)
	p, i := 0, 0
	star, mark := -1, 0
	for i < len(s) {
		switch {
		case p < len(pattern) && (pattern[p] == '?' || pattern[p] == s[i]):
			p++
			i++
		case p < len(pattern) && pattern[p] == '*':
			star, mark = p, i
			p++
		case star >= 0:
			p = star + 1
			mark++
			i = mark
		default:
			return false
		}
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}

// RefID is the logical id (or parameter name) a Ref or Fn::GetAtt names,
// and the attribute for a GetAtt; "" when v is neither.
func RefID(v any) (id, attr string) {
	m := AsMap(v)
	if len(m) != 1 {
		return "", ""
	}
	if s, ok := m["Ref"].(string); ok {
		return s, ""
	}
	switch g := m["Fn::GetAtt"].(type) {
	case []any:
		if len(g) == 2 {
			return Str(g[0]), Str(g[1])
		}
	case string:
		id, attr, _ := strings.Cut(g, ".")
		return id, attr
	}
	return "", ""
}
