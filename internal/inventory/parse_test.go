package inventory

import "testing"

func TestParse(t *testing.T) {
	for _, c := range []struct {
		in, path, typ string
		ok            bool
	}{
		{"App/Stack/Role/Resource [AWS::IAM::Role]", "App/Stack/Role/Resource", "AWS::IAM::Role", true},
		{"App/Stack/Odd [x] id/Plain [AWS::Lambda::Function]", "App/Stack/Odd [x] id/Plain", "AWS::Lambda::Function", true},
		{"App/Stack/Role/Resource", "", "", false},
		{"App/Stack/Odd [x]", "App/Stack/Odd", "x", true},
		{"App/Stack/Odd [x] y", "", "", false},
		{"App/Stack/Odd [x]]", "", "", false},
	} {
		path, typ, ok := parse(c.in)
		if path != c.path || typ != c.typ || ok != c.ok {
			t.Errorf("parse(%q) = %q, %q, %v; want %q, %q, %v", c.in, path, typ, ok, c.path, c.typ, c.ok)
		}
	}
}
