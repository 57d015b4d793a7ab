package manifest

import (
	"net/netip"
	"testing"
)

func TestFreeRangeSkipsEverythingTheEstateHolds(t *testing.T) {
	p := netip.MustParsePrefix
	e := &Estate{Studio: Studio{
		ManagementVpcCidr: p("10.0.0.0/16"),
		OnPremises:        OnPremises{Cidrs: []netip.Prefix{p("192.168.0.0/16")}},
		Pools:             []Pool{{VpcCidr: p("10.1.0.0/16")}},
		Retired:           []Retired{{VpcCidr: p("10.2.0.0/20")}},
	}, Productions: []ProductionFile{{Production: Production{VpcCidr: p("10.2.16.0/20")}}}}
	for _, tc := range []struct {
		bits int
		want string
	}{
		{20, "10.2.32.0/20"},
		{16, "10.3.0.0/16"},
		{22, "10.2.32.0/22"},
	} {
		if got, ok := e.FreeRange(tc.bits); !ok || got.String() != tc.want {
			t.Errorf("/%d: got %s %v, want %s", tc.bits, got, ok, tc.want)
		}
	}
	full := &Estate{Studio: Studio{OnPremises: OnPremises{Cidrs: []netip.Prefix{p("10.0.0.0/8"), p("172.16.0.0/12"), p("192.168.0.0/17")}}}}
	if got, ok := full.FreeRange(16); ok {
		t.Errorf("no /16 is free, got %s", got)
	}
	if got, ok := full.FreeRange(18); !ok || got.String() != "192.168.128.0/18" {
		t.Errorf("/18: got %s %v, want 192.168.128.0/18", got, ok)
	}
}
