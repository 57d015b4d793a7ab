package manifest

import (
	"strings"
)

// Source is one decoded manifest file: its display name and where each field
// was found, so that an error about a field can name its line.
type Source struct {
	Name  string
	lines map[Path]int
	// failed: the file could not be decoded at all, so it is not validated.
	failed bool
	// bad holds fields that failed to decode; validation says nothing more
	// about them, so each problem is reported once.
	bad map[Path]bool
}

// suppressed reports whether errors about field would only repeat a decoding
// error already reported for it or for a field that contains it.
func (s *Source) suppressed(field Path) bool {
	for p := field; s != nil && len(s.bad) > 0; p = parent(p) {
		if s.bad[p] {
			return true
		}
		if p == "" {
			return false
		}
	}
	return false
}

// Line returns the line of field, or of its nearest ancestor that is present.
func (s *Source) Line(field Path) int {
	if s == nil {
		return 0
	}
	for p := field; ; {
		if l, ok := s.lines[p]; ok {
			return l
		}
		if p == "" {
			return 0
		}
		p = parent(p)
	}
}

// Has reports whether the file sets field explicitly.
func (s *Source) Has(field Path) bool {
	if s == nil {
		return false
	}
	_, ok := s.lines[field]
	return ok
}

func parent(p Path) Path {
	s := string(p)
	if strings.HasSuffix(s, "]") {
		if i := strings.LastIndexByte(s, '['); i >= 0 {
			return Path(s[:i])
		}
	}
	if i := strings.LastIndexByte(s, '.'); i >= 0 {
		return Path(s[:i])
	}
	return ""
}
