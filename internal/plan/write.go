package plan

import (
	"fmt"
	"io"
	"strings"
)

const (
	red   = "\x1b[31;1m"
	reset = "\x1b[0m"
)

// Write writes the plan for a reviewer: per stack, one line per resource
// added (+), changed (~, with the properties), replaced (-/+, with the
// properties that force it) and removed (-); a stateful resource replaced
// or removed reads REPLACE or REMOVE, in red when color is set. Then the
// change of the fixed monthly cost.
func (p *Plan) Write(w io.Writer, color bool) {
	for _, s := range p.Stacks {
		where := strings.TrimSpace(s.Account + " " + s.Region)
		if where != "" {
			where = " (" + where + ")"
		}
		what := s.Summary()
		switch {
		case s.Added:
			what = fmt.Sprintf("new stack, %d resources", len(s.Resources))
		case s.Removed:
			what = fmt.Sprintf("stack removed, %d resources", len(s.Resources))
		}
		cost := ""
		if d := s.After.Monthly - s.Before.Monthly; round(d) != 0 {
			cost = fmt.Sprintf("; %s a month", Delta(d))
		}
		fmt.Fprintf(w, "%s%s: %s%s\n", s.Name, where, what, cost)
		for _, r := range s.Resources {
			// A new or removed stack lists only its stateful resources:
			// the rest is in its template.
			if (s.Added || s.Removed) && !r.Stateful {
				continue
			}
			line := r.line()
			if r.Danger() && color {
				line = red + line + reset
			}
			fmt.Fprintf(w, "  %s\n", line)
		}
		if n := len(s.Resources) - countStateful(s.Resources); (s.Added || s.Removed) && n > 0 {
			sign := "+"
			if s.Removed {
				sign = "-"
			}
			fmt.Fprintf(w, "  %s %s\n", sign, others(n))
		}
	}
	if len(p.Stacks) == 0 {
		fmt.Fprintln(w, "no changes")
	}
	fmt.Fprintf(w, "fixed monthly cost: %s -> %s (%s)\n", Dollars(p.Before.Monthly), Dollars(p.After.Monthly), Delta(p.After.Monthly-p.Before.Monthly))
}

func others(n int) string {
	if n == 1 {
		return "1 other resource"
	}
	return fmt.Sprintf("%d other resources", n)
}

// fresh says what replaces a stateful resource.
var fresh = map[string]string{
	"AWS::S3::Bucket":          "a new, empty bucket",
	"AWS::KMS::Key":            "a new key, with new key material (what the old key encrypted needs the old key)",
	"AWS::Logs::LogGroup":      "a new, empty log group",
	"AWS::EC2::Volume":         "a new, empty volume",
	"AWS::EC2::VPC":            "a new VPC (what it holds is replaced with it)",
	"AWS::CloudTrail::Trail":   "a new trail",
	"AWS::EC2::TransitGateway": "a new Transit Gateway, with no attachment",
}

func countStateful(rs []Resource) int {
	n := 0
	for _, r := range rs {
		if r.Stateful {
			n++
		}
	}
	return n
}

func (r Resource) line() string {
	head := fmt.Sprintf("%s %s", r.Type, r.ID)
	switch r.Action {
	case Add:
		return "+ " + head
	case Change:
		return fmt.Sprintf("~ %s: %s", head, strings.Join(r.Properties, ", "))
	case Replace:
		why := strings.Join(r.Causes, ", ")
		if len(r.Because) > 0 {
			why += " (refers to " + strings.Join(r.Because, ", ") + ", replaced)"
		}
		named := ""
		if r.FixedName != "" {
			named = fmt.Sprintf("; but its name %s stays, so the update fails (CloudFormation replaces a named resource only under a new name)", r.FixedName)
		}
		if !r.Danger() {
			return fmt.Sprintf("-/+ %s: replaced: %s%s", head, why, named)
		}
		what := fresh[r.Type] + "; the old one is deleted"
		if r.Retained {
			what = fresh[r.Type] + "; the old one is orphaned, not deleted (UpdateReplacePolicy Retain)"
		}
		return fmt.Sprintf("REPLACE %s: %s: %s%s", head, why, what, named)
	default:
		if !r.Stateful {
			return "- " + head
		}
		if r.Retained {
			return fmt.Sprintf("REMOVE %s: orphaned, not deleted (DeletionPolicy Retain): it keeps its data and cost, outside every stack", head)
		}
		return fmt.Sprintf("REMOVE %s: deleted with its data", head)
	}
}
