package plan

import (
	"fmt"
	"io"
	"maps"
	"slices"

	"github.com/renderenv/renderenv/internal/cfn"
)

// hoursPerMonth is AWS's billing month (730 hours) for hourly prices.
const hoursPerMonth = 730

// Price is the list price of one resource type.
type Price struct {
	// Hourly, per unit (an endpoint's network interface, an attachment);
	// or Monthly per resource. Zero for a type with only usage costs.
	Hourly, Monthly float64
	// Unit names what Hourly or Monthly is charged for.
	Unit string
	// Usage names the costs that depend on use (data processed, events,
	// gigabytes ingested), which cost never guesses.
	Usage string
	// Source is the pricing page the numbers come from.
	Source string
}

// Prices is a price table: the region and date its numbers hold for, and
// the price of each resource type that costs anything.
type Prices struct {
	Region string
	Date   string
	Types  map[string]Price
}

// ListPrices are AWS's public on-demand list prices in us-west-2 (US West,
// Oregon), in US dollars, without tax, discounts, Savings Plans or the free
// tier, recorded on Date from the cited pages. (The first recording was
// not read off the live pages: the rates were cross-checked against
// published write-ups of them. Check each page on the first update.)
//
// To update: open each Source page, select US West (Oregon), change the
// numbers and Date, add a type renderenv's constructs start to create (see
// `grep -ho '"Type": "AWS::[^"]*"' test/testdata/snapshots/*.json | sort -u`),
// then rewrite the golden files (`go test ./bin/renderenv -run
// 'TestPlan|TestCost' -update`), read their diff, and set the figures
// TestShippedEstateCostsAbout800AMonth pins. A type missing here costs nothing in the
// report; a price that depends on how a resource is set (an endpoint's
// subnets, a VPN on a Transit Gateway) is computed in Resource below.
var ListPrices = Prices{
	Region: "us-west-2",
	Date:   "2026-12-02",
	Types: map[string]Price{
		"AWS::EC2::VPCEndpoint": {Hourly: 0.01, Unit: "interface endpoint, per availability zone (network interface)",
			Usage: "$0.01 per GB processed; gateway endpoints (S3) are free", Source: "https://aws.amazon.com/privatelink/pricing/"},
		"AWS::EC2::TransitGatewayAttachment": {Hourly: 0.05, Unit: "attachment",
			Usage: "$0.02 per GB sent to the Transit Gateway", Source: "https://aws.amazon.com/transit-gateway/pricing/"},
		"AWS::EC2::TransitGatewayVpcAttachment": {Hourly: 0.05, Unit: "attachment",
			Usage: "$0.02 per GB sent to the Transit Gateway", Source: "https://aws.amazon.com/transit-gateway/pricing/"},
		"AWS::EC2::NatGateway": {Hourly: 0.045, Unit: "NAT gateway",
			Usage: "$0.045 per GB processed", Source: "https://aws.amazon.com/vpc/pricing/"},
		"AWS::EC2::EIP": {Hourly: 0.005, Unit: "public IPv4 address",
			Source: "https://aws.amazon.com/vpc/pricing/"},
		// A VPN on a Transit Gateway is also a Transit Gateway attachment,
		// charged as one (Resource adds it).
		"AWS::EC2::VPNConnection": {Hourly: 0.05, Unit: "site-to-site VPN connection",
			Usage: "data transfer out; on a Transit Gateway, $0.02 per GB sent to it", Source: "https://aws.amazon.com/vpn/site-to-site-vpn-pricing/"},
		"AWS::KMS::Key": {Monthly: 1, Unit: "customer-managed key",
			Usage: "$0.03 per 10,000 requests; each yearly rotation adds $1 a month, for the first two", Source: "https://aws.amazon.com/kms/pricing/"},
		"AWS::CloudWatch::Alarm": {Monthly: 0.10, Unit: "standard-resolution metric alarm",
			Source: "https://aws.amazon.com/cloudwatch/pricing/"},
		"AWS::CloudTrail::Trail": {Unit: "trail",
			Usage: "the first copy of management events is free, $2.00 per 100,000 events of another copy; data events $0.10 per 100,000", Source: "https://aws.amazon.com/cloudtrail/pricing/"},
		"AWS::Logs::LogGroup": {Unit: "log group",
			Usage: "$0.50 per GB ingested, $0.03 per GB-month stored", Source: "https://aws.amazon.com/cloudwatch/pricing/"},
		"AWS::EC2::FlowLog": {Unit: "flow log",
			Usage: "vended logs: from $0.50 per GB to CloudWatch Logs, $0.25 per GB to S3", Source: "https://aws.amazon.com/cloudwatch/pricing/"},
		"AWS::Route53Resolver::FirewallRuleGroupAssociation": {Unit: "DNS Firewall rule group association",
			Usage: "$0.60 per million queries inspected", Source: "https://aws.amazon.com/route53/pricing/"},
		"AWS::Route53Resolver::FirewallDomainList": {Unit: "DNS Firewall domain list",
			Usage: "$0.0009 per domain a month", Source: "https://aws.amazon.com/route53/pricing/"},
		"AWS::Route53Resolver::ResolverQueryLoggingConfig": {Unit: "Resolver query logging",
			Usage: "no charge of its own; the log group's ingestion", Source: "https://aws.amazon.com/route53/pricing/"},
		"AWS::S3::Bucket": {Unit: "bucket",
			Usage: "storage, requests and data retrieval", Source: "https://aws.amazon.com/s3/pricing/"},
	},
}

// Cost is a fixed monthly cost in dollars, with the usage-driven costs it
// leaves out, by resource type.
type Cost struct {
	Monthly float64
	// Items are the fixed costs by resource type.
	Items map[string]Item
	// Usage are the types present whose costs depend on use.
	Usage map[string]string
}

// Item is the fixed cost of the resources of one type.
type Item struct {
	Count   int     // resources
	Units   int     // what is charged: an interface endpoint's zones
	Monthly float64 // dollars
}

// Plus adds two costs.
func (c Cost) Plus(d Cost) Cost {
	out := Cost{Monthly: c.Monthly + d.Monthly, Items: maps.Clone(c.Items), Usage: maps.Clone(c.Usage)}
	if out.Items == nil {
		out.Items = map[string]Item{}
	}
	if out.Usage == nil {
		out.Usage = map[string]string{}
	}
	for t, it := range d.Items {
		o := out.Items[t]
		out.Items[t] = Item{Count: o.Count + it.Count, Units: o.Units + it.Units, Monthly: o.Monthly + it.Monthly}
	}
	maps.Copy(out.Usage, d.Usage)
	return out
}

// Stack prices the resources of a stack.
func (p Prices) Stack(s *cfn.Stack) Cost {
	c := Cost{Items: map[string]Item{}, Usage: map[string]string{}}
	for _, r := range s.All() {
		units, monthly, usage := p.Resource(r)
		if monthly == 0 && units == 0 && usage == "" {
			continue
		}
		if monthly > 0 {
			it := c.Items[r.Type]
			c.Items[r.Type] = Item{Count: it.Count + 1, Units: it.Units + units, Monthly: it.Monthly + monthly}
			c.Monthly += monthly
		}
		if usage != "" {
			c.Usage[r.Type] = usage
		}
	}
	return c
}

// Resource prices one resource: the units charged, its fixed monthly cost
// and the usage costs it adds.
func (p Prices) Resource(r *cfn.Resource) (units int, monthly float64, usage string) {
	pr, ok := p.Types[r.Type]
	if !ok {
		return 0, 0, ""
	}
	units = 1
	switch r.Type {
	case "AWS::EC2::VPCEndpoint":
		// An interface endpoint has a network interface, charged by the
		// hour, in each subnet (one per availability zone); a gateway
		// endpoint is free.
		if cfn.Str(r.Properties["VpcEndpointType"]) != "Interface" {
			return 0, 0, ""
		}
		units = len(cfn.AsList(r.Properties["SubnetIds"]))
	case "AWS::EC2::VPNConnection":
		if r.Properties["TransitGatewayId"] != nil {
			att := p.Types["AWS::EC2::TransitGatewayAttachment"]
			return 1, round(pr.Hourly*hoursPerMonth + att.Hourly*hoursPerMonth), pr.Usage
		}
	}
	return units, round(float64(units) * (pr.Hourly*hoursPerMonth + pr.Monthly)), pr.Usage
}

func round(x float64) float64 { return float64(int64(x*100+0.5)) / 100 }

// Dollars writes an amount as $1,234.56.
func Dollars(x float64) string {
	neg := x < 0
	if neg {
		x = -x
	}
	cents := int64(x*100 + 0.5)
	whole := fmt.Sprint(cents / 100)
	for i := len(whole) - 3; i > 0; i -= 3 {
		whole = whole[:i] + "," + whole[i:]
	}
	s := fmt.Sprintf("$%s.%02d", whole, cents%100)
	if neg {
		return "-" + s
	}
	return s
}

// Delta writes a change of cost as +$7.30 or -$36.50.
func Delta(x float64) string {
	if x < 0 {
		return Dollars(x)
	}
	return "+" + Dollars(x)
}

// WriteCost writes the fixed monthly cost of the stacks of a, per stack and
// in total, each priced type with its count, then the usage-driven costs
// it leaves out, by type.
func WriteCost(w io.Writer, a *cfn.Assembly, p Prices, keep func(*cfn.Stack) bool) Cost {
	total := Cost{}
	for _, s := range a.Stacks {
		if keep != nil && !keep(s) {
			continue
		}
		c := p.Stack(s)
		total = total.Plus(c)
		where := ""
		if s.Region != "" && s.Region != p.Region {
			where = fmt.Sprintf(" (priced at %s's prices, the stack is in %s)", p.Region, s.Region)
		}
		fmt.Fprintf(w, "%s: %s a month%s\n", s.Name, Dollars(c.Monthly), where)
		for _, t := range slices.Sorted(maps.Keys(c.Items)) {
			fmt.Fprintf(w, "  %-50s %s\n", countOf(t, c.Items[t]), Dollars(c.Items[t].Monthly))
		}
	}
	fmt.Fprintf(w, "total: %s a month, fixed, at %s list prices of %s\n", Dollars(total.Monthly), p.Region, p.Date)
	if len(total.Usage) > 0 {
		fmt.Fprintf(w, "not included, charged by use:\n")
		for _, t := range slices.Sorted(maps.Keys(total.Usage)) {
			fmt.Fprintf(w, "  %s: %s\n", t, total.Usage[t])
		}
	}
	return total
}

// countOf reads "6 AWS::EC2::VPCEndpoint (12 network interfaces)": only
// interface endpoints are charged by something else than their count.
func countOf(t string, it Item) string {
	s := fmt.Sprintf("%d %s", it.Count, t)
	if it.Units != it.Count {
		s += fmt.Sprintf(" (%d network interfaces)", it.Units)
	}
	return s
}
