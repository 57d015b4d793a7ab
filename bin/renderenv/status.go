package main

import (
	"flag"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/renderenv/renderenv/internal/cfn"
	"github.com/renderenv/renderenv/internal/manifest"
	"github.com/renderenv/renderenv/internal/names"
	"github.com/renderenv/renderenv/internal/plan"
)

// statusColumn is one column of `renderenv status`: a header and a value
// per production. With --assembly, a monthly-cost column goes before the
// state, which stays last.
type statusColumn struct {
	header string
	value  func(p *manifest.Production) string
}

var statusColumns = []statusColumn{
	{"PRODUCTION", func(p *manifest.Production) string { return p.Name }},
	{"TIER", func(p *manifest.Production) string { return strconv.FormatInt(p.Tier, 10) }},
	{"ACCOUNT", func(p *manifest.Production) string { return p.Account }},
	{"START", func(p *manifest.Production) string { return p.StartDate.String() }},
	{"END", func(p *manifest.Production) string { return p.EndDate.String() }},
	{"STATE", func(p *manifest.Production) string { return p.State() }},
}

// status is `renderenv status [--dir DIR] [--assembly DIR]`: one line per
// production with its tier, account, dates, monthly fixed cost (with an
// assembly) and life-cycle state, sorted by name, and a
// warning on stderr for each production whose endDate has passed while it
// is still active (ISE 6.2, 10.9). Pure Go.
//
// Exit status: 0, also with warnings; 1 when the manifests are invalid; 2
// on bad usage.
func status(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("status", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	dir := fs.String("dir", "", "the manifest folder (default: the shipped examples)")
	assembly := fs.String("assembly", "", "a synthesized cloud assembly: adds each production's fixed monthly cost (its stack and link stack)")
	pos, code, done := parseFlags(fs, args, stdout, stderr)
	if done {
		return code
	}
	if len(pos) > 0 {
		return badUsage(stderr, "status", "no positional arguments: name the folder with --dir")
	}
	e, errs := manifest.LoadDir(*dir)
	if len(errs) > 0 {
		for _, err := range errs {
			fmt.Fprintln(stderr, err.Error())
		}
		return 1
	}
	ps := make([]*manifest.ProductionFile, len(e.Productions))
	for i := range e.Productions {
		ps[i] = &e.Productions[i]
	}
	sort.Slice(ps, func(i, j int) bool { return ps[i].Name < ps[j].Name })
	columns := statusColumns
	if *assembly != "" {
		a, err := cfn.ReadAssembly(*assembly)
		if err != nil {
			fmt.Fprintf(stderr, "renderenv status: %v\n", err)
			return 1
		}
		columns = withCost(columns, costColumn(a, names.Names{Studio: e.Studio.Studio}))
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	row := make([]string, len(columns))
	for i, c := range columns {
		row[i] = c.header
	}
	fmt.Fprintln(tw, strings.Join(row, "\t"))
	for _, pf := range ps {
		for i, c := range columns {
			row[i] = c.value(&pf.Production)
		}
		fmt.Fprintln(tw, strings.Join(row, "\t"))
	}
	tw.Flush()
	for _, w := range stillActive(ps, manifest.Today()) {
		fmt.Fprintln(stderr, w)
	}
	return 0
}

// stillActive are the warnings about productions whose endDate is before
// today and whose status is still active.
func stillActive(ps []*manifest.ProductionFile, today time.Time) []string {
	day := today.UTC().Truncate(24 * time.Hour)
	var out []string
	for _, pf := range ps {
		if pf.State() != manifest.StatusActive || pf.EndDate.IsZero() || !pf.EndDate.Before(day) {
			continue
		}
		out = append(out, fmt.Sprintf("%s:%d: endDate: warning: %s has passed and %s is still active: close it (renderenv close %s; ISE 6.2, 10.9), or move endDate",
			pf.Source.Name, pf.Source.Line("endDate"), pf.EndDate, pf.Name, pf.Name))
	}
	return out
}

// costColumn is a production's fixed monthly cost at list prices: its
// stack and its link stack in the assembly (a pooled production's share of
// its pool is not counted); "-" when the assembly lacks its stack.
func costColumn(a *cfn.Assembly, n names.Names) statusColumn {
	return statusColumn{"MONTHLY", func(p *manifest.Production) string {
		st := a.Stack(n.ProductionStack(p.Name))
		if st == nil {
			return "-"
		}
		c := plan.ListPrices.Stack(st)
		if link := a.Stack(n.LinkStack(st.Name)); link != nil {
			c = c.Plus(plan.ListPrices.Stack(link))
		}
		return plan.Dollars(c.Monthly)
	}}
}

// withCost puts the cost column before the state, which stays last.
func withCost(cols []statusColumn, cost statusColumn) []statusColumn {
	out := append([]statusColumn(nil), cols[:len(cols)-1]...)
	return append(out, cost, cols[len(cols)-1])
}
