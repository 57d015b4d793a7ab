package shard

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
)

// reportFile is the CDK's policy-validation report: what each validation
// plugin found in every template, with the findings the stacks
// acknowledged.
const reportFile = "validation-report.json"

// mergeReports adds the parts' findings to dst's report, plugin by plugin:
// a plugin's conclusion is a failure if any part's is, and its findings
// are grouped by rule and description in the order they are first seen
// (shared stacks, then the productions in order). Within a group, a
// single process lists the stacks in an order of its own; the merged
// report lists the same findings, shared stacks first.
func mergeReports(dst string, parts []string) error {
	base, err := readReport(filepath.Join(dst, reportFile))
	if err != nil || base == nil {
		return err
	}
	for _, dir := range parts {
		r, err := readReport(filepath.Join(dir, reportFile))
		if err != nil {
			return err
		}
		if r != nil {
			base.add(r)
		}
	}
	b, err := json.Marshal(base)
	if err != nil {
		return err
	}
	var out bytes.Buffer
	if err := json.Indent(&out, b, "", "  "); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dst, reportFile), out.Bytes(), 0o644)
}

type report struct {
	Version       string         `json:"version"`
	Title         string         `json:"title"`
	PluginReports []pluginReport `json:"pluginReports"`
}

type pluginReport struct {
	PluginName           string            `json:"pluginName"`
	PluginVersion        string            `json:"pluginVersion"`
	Conclusion           string            `json:"conclusion"`
	Violations           []json.RawMessage `json:"violations"`
	SuppressedViolations []json.RawMessage `json:"suppressedViolations"`
}

func readReport(file string) (*report, error) {
	b, err := os.ReadFile(file)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var r report
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("merging the synthesis: %s: %w", file, err)
	}
	return &r, nil
}

func (r *report) add(o *report) {
	for _, p := range o.PluginReports {
		i := slices.IndexFunc(r.PluginReports, func(q pluginReport) bool { return q.PluginName == p.PluginName })
		if i < 0 {
			r.PluginReports = append(r.PluginReports, p)
			continue
		}
		q := &r.PluginReports[i]
		if p.Conclusion != "success" {
			q.Conclusion = p.Conclusion
		}
		q.Violations = grouped(append(q.Violations, p.Violations...))
		q.SuppressedViolations = grouped(append(q.SuppressedViolations, p.SuppressedViolations...))
	}
}

// grouped orders findings by rule and description, first seen first,
// keeping their order within a group.
func grouped(vs []json.RawMessage) []json.RawMessage {
	key := func(v json.RawMessage) string {
		var f struct{ RuleName, Description string }
		_ = json.Unmarshal(v, &f)
		return f.RuleName + "\x00" + f.Description
	}
	first := map[string]int{}
	for i, v := range vs {
		if _, ok := first[key(v)]; !ok {
			first[key(v)] = i
		}
	}
	slices.SortStableFunc(vs, func(a, b json.RawMessage) int { return first[key(a)] - first[key(b)] })
	return vs
}
