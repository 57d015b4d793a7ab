package manifest

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// Path is a field path inside one manifest, such as render.instanceTypes[1].
// The empty Path is the document root.
type Path string

// Child names a field of the value at p.
func (p Path) Child(name string) Path {
	if p == "" {
		return Path(name)
	}
	return p + "." + Path(name)
}

// Index names an element of the sequence at p.
func (p Path) Index(i int) Path { return p + Path("["+strconv.Itoa(i)+"]") }

// Error is one problem with one field of one manifest file.
type Error struct {
	File    string
	Line    int // 0 when unknown
	Field   Path
	Message string
}

func (e Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		b.WriteString(":")
		b.WriteString(strconv.Itoa(e.Line))
	}
	if e.Field != "" {
		b.WriteString(": ")
		b.WriteString(string(e.Field))
	}
	b.WriteString(": ")
	b.WriteString(e.Message)
	return b.String()
}

// ErrorList collects every problem found; validation never stops at the first.
type ErrorList []Error

func (l ErrorList) Error() string {
	lines := make([]string, len(l))
	for i, e := range l {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// Sorted orders errors by file, line and field so output is stable.
func (l ErrorList) Sorted() ErrorList {
	out := append(ErrorList(nil), l...)
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.File != b.File {
			return a.File < b.File
		}
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.Field < b.Field
	})
	return out
}

// reporter accumulates errors for one file, resolving field paths to lines.
// The decoder's reporter marks the fields it fails on; the validator's skips
// them.
type reporter struct {
	src      *Source
	errs     *ErrorList
	decoding bool
}

func (r reporter) add(field Path, format string, args ...any) {
	if r.decoding {
		if r.src.bad == nil {
			r.src.bad = map[Path]bool{}
		}
		r.src.bad[field] = true
	} else if r.src.suppressed(field) {
		return
	}
	*r.errs = append(*r.errs, Error{
		File:    r.src.Name,
		Line:    r.src.Line(field),
		Field:   field,
		Message: fmt.Sprintf(format, args...),
	})
}
