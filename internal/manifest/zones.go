package manifest

// defaultZoneLetters are the zones used when a manifest names none. Most
// regions have a and b; where they do not, the letters that exist for every
// account are listed. Set availabilityZones to choose others.
var defaultZoneLetters = map[string][]string{
	"ap-northeast-1": {"a", "c"},
	"us-west-1":      {"b", "c"},
}

// Zones returns explicit, or the region's default two zones.
func Zones(explicit []string, region string) []string {
	if len(explicit) > 0 {
		return explicit
	}
	letters, ok := defaultZoneLetters[region]
	if !ok {
		letters = []string{"a", "b"}
	}
	out := make([]string, len(letters))
	for i, l := range letters {
		out[i] = region + l
	}
	return out
}
