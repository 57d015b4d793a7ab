package evidence

import (
	"encoding/json"
	"fmt"
	"strings"
)

// JSON renders the pack as indented, stable JSON: controls in checklist
// order, checks and evidence in the order the checks produce them, which
// depends only on the templates.
func (p Pack) JSON() ([]byte, error) {
	b, err := json.MarshalIndent(p, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// statusText explains each status in the report's legend.
var statusText = []struct {
	s    Status
	text string
}{
	{Implemented, "the templates do what the control recommends, and every check passed"},
	{Partial, "the templates do a checked part; the studio does the rest, or a check found a limitation or a failure (see its checks)"},
	{Missing, "the templates should do this, and the checks found nothing that does"},
	{Studio, "outside what the templates can do: the studio's responsibility; evidence, when listed, is what helps"},
}

// maxValue is the longest property value the Markdown shows; the JSON
// keeps every value whole.
const maxValue = 180

// maxRequests is the most unexpected access matrix requests a check lists
// by ID in the Markdown (its detail describes each); the JSON cites every
// request.
const maxRequests = 20

// Markdown renders the pack as a report for an auditor.
func (p Pack) Markdown() string {
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }

	w("# ISE control evidence: %s / %s\n\n", p.Studio, p.Production)
	w("| | |\n|:-----------|:-----------------------------------------------------------|\n")
	w("| Studio | %s |\n", p.Studio)
	w("| Production | %s |\n", p.Production)
	w("| Tier | %d (%s) |\n", p.Tier, p.TierLabel)
	w("| Account | %s |\n", p.Account)
	w("| Region | %s |\n", p.Region)
	var stacks []string
	for _, s := range p.Stacks {
		stacks = append(stacks, "`"+s.Name+"`")
	}
	w("| Stacks read | %s |\n", strings.Join(stacks, ", "))
	w("| Checklist | ISE Studio Security Controls for VFX/Rendering, controls 1.1 to 10.11 |\n\n")
	w("> %s\n\n", p.Note)

	w("## Summary\n\n")
	w("Of %d controls: **%d implemented**, **%d partial**, **%d missing**, **%d studio**.\n\n",
		len(p.Controls), p.Summary.Implemented, p.Summary.Partial, p.Summary.Missing, p.Summary.Studio)
	for _, s := range statusText {
		w("- **%s**: %s.\n", s.s, s.text)
	}
	// Pandoc sizes columns by these dashes; GitHub ignores them.
	w("\n| Control | Status | Evidence |\n|:-----------------------------------------------------------|:-------------|--------:|\n")
	for _, c := range p.Controls {
		status := string(c.Status)
		if c.Status == Missing {
			status = "**missing**"
		}
		w("| [%s](#ise-%s) %s | %s | %d |\n", c.ID, anchor(c.ID), cell(c.Title), status, len(c.Evidence))
	}
	w("\n")

	area := ""
	for _, c := range p.Controls {
		if c.Area != area {
			area = c.Area
			w("## %s\n\n", area)
		}
		w("<a id=\"ise-%s\"></a>\n\n", anchor(c.ID))
		w("### %s %s\n\n", c.ID, c.Title)
		w("**Status: %s** (by design: %s)\n\n", c.Status, scopeText(c.Scope))
		w("%s\n\n", c.How)
		if len(c.Checks) > 0 {
			w("**Checks**\n\n")
			for _, r := range c.Checks {
				rules := ""
				if len(r.Rules) > 0 {
					rules = " (" + strings.Join(r.Rules, ", ") + ")"
				}
				w("- **%s**: %s%s. *Found:* %s\n", outcomeText(r.Outcome), r.Check, rules, sentence(r.Detail))
				if len(r.Requests) > 0 {
					for i, id := range r.Requests[:r.Unexpected] {
						if i == maxRequests {
							w("  - … and %d more unexpected: every one is in the JSON pack and in `%s`\n", r.Unexpected-maxRequests, r.Matrix)
							break
						}
						w("  - unexpected: `%s`\n", id)
					}
					w("  - *Cites* %s of `%s` (their IDs are in the JSON pack).\n", count(len(r.Requests), "request", "requests"), r.Matrix)
				}
			}
			w("\n")
		}
		if len(c.Rules) > 0 {
			w("**Rules** (`renderenv check`)\n\n")
			for _, r := range c.Rules {
				w("- **%s**: `%s` %s\n", outcomeText(r.Outcome), r.ID, sentence(r.Description))
				for _, f := range r.Findings {
					w("  - %s\n", f.String())
				}
			}
			w("\n")
		}
		if len(c.Evidence) > 0 {
			w("**Evidence**\n\n")
			for _, e := range c.Evidence {
				w("- `%s / %s` (%s): `%s`", e.Stack, e.LogicalID, e.Type, e.Property)
				if e.Value != "" {
					w(" = %s", code(e.Value))
				}
				w("\n")
			}
			w("\n")
		}
		if len(c.StudioActions) > 0 {
			w("**Studio actions**\n\n")
			for _, a := range c.StudioActions {
				w("- %s\n", a)
			}
			w("\n")
		}
	}
	return b.String()
}

func anchor(id string) string { return strings.ReplaceAll(id, ".", "-") }

func scopeText(s string) string {
	switch s {
	case scopeTemplates:
		return "renderenv implements it"
	case scopeShared:
		return "renderenv implements a part, the studio the rest"
	}
	return "the studio's responsibility"
}

func outcomeText(o Outcome) string {
	switch o {
	case Pass:
		return "pass"
	case Fail:
		return "FAIL"
	case Limited:
		return "limited"
	}
	return "not deployed"
}

// sentence ends a detail with a full stop.
func sentence(s string) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return ""
	}
	if !strings.HasSuffix(s, ".") {
		s += "."
	}
	return s
}

// code renders a value as inline code, shortened for reading.
func code(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > maxValue {
		s = string(r[:maxValue]) + " …"
	}
	if strings.Contains(s, "`") {
		return "`` " + s + " ``"
	}
	return "`" + s + "`"
}

// cell escapes text for a table cell.
func cell(s string) string { return strings.ReplaceAll(s, "|", "\\|") }
