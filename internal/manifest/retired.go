package manifest

import (
	"fmt"
	"net/netip"

	"github.com/renderenv/renderenv/internal/names"
)

// Retired is a production that was closed. Its stacks, roles and buckets
// may outlive its manifest, so its name is never given again, and its
// range (none for a production that ran in its pool's VPC) only to a
// production that says so (ReusesRangeOf).
type Retired struct {
	Name    string       `yaml:"name"`
	Account string       `yaml:"account"`
	VpcCidr netip.Prefix `yaml:"vpcCidr"`
	Closed  Date         `yaml:"closed"`
}

// retiredByName indexes studio.yaml's retired list.
func (s *Studio) retiredByName() map[string]int {
	out := make(map[string]int, len(s.Retired))
	for i, r := range s.Retired {
		if _, dup := out[r.Name]; !dup {
			out[r.Name] = i
		}
	}
	return out
}

// validateRetired checks studio.yaml's retired list.
func validateRetired(s *Studio, r reporter) {
	seen := map[string]bool{}
	for i, ret := range s.Retired {
		f := Path("retired").Index(i)
		requireName(r, f.Child("name"), ret.Name, maxProductionName)
		if seen[ret.Name] {
			r.add(f.Child("name"), "%q is listed twice", ret.Name)
		}
		seen[ret.Name] = true
		requireAccount(r, f.Child("account"), ret.Account)
		if ret.Closed.IsZero() {
			r.add(f.Child("closed"), "is required: the day the production was closed")
		}
	}
}

// validateRetiredNames: a retired production's name is never given again,
// and a production that reuses a retired range names one.
func validateRetiredNames(e *Estate, errs *ErrorList) {
	s := &e.Studio
	byName := s.retiredByName()
	for i := range e.Productions {
		p := &e.Productions[i]
		if p.Source.failed {
			continue
		}
		r := reporter{src: p.Source, errs: errs}
		if j, ok := byName[p.Name]; ok && p.Name != "" {
			r.add("name", "%q was retired on %s (studio.yaml %s): its stacks, roles and buckets may still exist, so the name is never given again; choose another", p.Name, s.Retired[j].Closed, Path("retired").Index(j))
		}
		if p.ReusesRangeOf == "" {
			continue
		}
		j, ok := byName[p.ReusesRangeOf]
		switch {
		case !ok:
			r.add("reusesRangeOf", "%q is not a retired production of studio.yaml", p.ReusesRangeOf)
		case p.VpcCidr.IsValid() && s.Retired[j].VpcCidr.IsValid() && !p.VpcCidr.Overlaps(s.Retired[j].VpcCidr):
			r.add("reusesRangeOf", "%s's range %s does not overlap vpcCidr %s: remove the field", p.ReusesRangeOf, s.Retired[j].VpcCidr, p.VpcCidr)
		}
	}
}

// retiredOverlap is the error of a range that overlaps a retired one, or
// "" when the overlap is allowed: two retired ranges, or a production that
// names the retired one in reusesRangeOf.
func retiredOverlap(n, o network) string {
	switch {
	case n.retired != nil && o.retired != nil:
		return ""
	case o.retired != nil:
		n, o = o, n
	case n.retired == nil:
		return "-"
	}
	// n is retired, o is not.
	if o.reuses == n.retired.Name {
		return ""
	}
	return fmt.Sprintf("%s overlaps %s, the range of %s, retired on %s (%s %s): a retired production's stacks may still hold it, so it is reused only on purpose; once they are deleted, set reusesRangeOf: %s", o.cidr, n.cidr, n.retired.Name, n.retired.Closed, n.src.Name, n.field, n.retired.Name)
}

// StackNames are the names of every stack the estate can produce: the
// shared stacks, each pool and production with its link, the pipeline.
// A deployed stack of the studio that is not among them is drift.
func (e *Estate) StackNames() map[string]bool {
	n := names.Names{Studio: e.Studio.Studio}
	out := map[string]bool{n.LoggingStack(): true, n.NetworkStack(): true}
	if e.Studio.Pipeline.Enabled {
		out[n.PipelineStack()] = true
	}
	for _, p := range e.Studio.Pools {
		out[n.PoolStack(p.Account)] = true
		out[n.LinkStack(n.PoolStack(p.Account))] = true
	}
	for _, p := range e.Productions {
		out[n.ProductionStack(p.Name)] = true
		out[n.LinkStack(n.ProductionStack(p.Name))] = true
		if p.Ingest != nil {
			out[n.DrStack(p.Name)] = true
		}
		if len(p.Vendors) > 0 {
			out[n.ExchangeStack(p.Name)] = true
		}
	}
	return out
}
