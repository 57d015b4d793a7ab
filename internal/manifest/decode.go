package manifest

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
)

// decode reads one YAML document strictly into out (a pointer to a struct):
// unknown fields, wrong types and malformed values are errors naming the field
// and its line. It records the line of every field it sees in src.
func decode(data []byte, src *Source, out any) ErrorList {
	var errs ErrorList
	r := reporter{src: src, errs: &errs, decoding: true}
	src.lines = map[Path]int{}
	defer func() { src.failed = src.bad[""] }()
	switch {
	case len(bytes.TrimSpace(data)) == 0:
		r.add("", "file is empty")
		return errs
	case bytes.IndexByte(data, 0) >= 0 || !utf8.Valid(data):
		r.add("", "not a text file: expected a YAML document")
		return errs
	}
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&doc); errors.Is(err, io.EOF) {
		r.add("", "file holds no YAML document, only comments")
		return errs
	} else if err != nil {
		r.add("", "invalid YAML: %s", yamlError(src, err))
		return errs
	}
	var extra yaml.Node
	switch err := dec.Decode(&extra); {
	case err == nil:
		src.lines[""] = extra.Line
		r.add("", "more than one YAML document: one manifest per file")
		return errs
	case !errors.Is(err, io.EOF):
		// Broken YAML after the first document must not pass unnoticed.
		r.add("", "invalid YAML: %s", yamlError(src, err))
		return errs
	}
	root := &doc
	if root.Kind == yaml.DocumentNode && len(root.Content) == 1 {
		root = root.Content[0]
	}
	if root.Kind != yaml.MappingNode {
		src.lines[""] = root.Line
		r.add("", "expected a mapping of fields at the top level")
		return errs
	}
	d := decoder{r: r, aliased: new(int)}
	d.value(root, "", reflect.ValueOf(out).Elem())
	return errs
}

var yamlErrorLine = regexp.MustCompile(`^line ([0-9]+): `)

// yamlError is a YAML parser error without the "yaml: line N:" prefix; the
// line becomes the error's line, like every other error's.
func yamlError(src *Source, err error) string {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	if m := yamlErrorLine.FindStringSubmatch(msg); m != nil {
		if line, err := strconv.Atoi(m[1]); err == nil {
			src.lines[""] = line
			msg = msg[len(m[0]):]
		}
	}
	return msg
}

// maxAliased caps the values decoded through YAML aliases, so that a small
// file of nested aliases cannot expand into millions of values and errors.
const maxAliased = 10000

type decoder struct {
	r reporter
	// viaAlias: the value being decoded was reached through an alias.
	viaAlias bool
	// aliased counts the values decoded through aliases in this file.
	aliased *int
}

var (
	prefixType = reflect.TypeOf(netip.Prefix{})
	addrType   = reflect.TypeOf(netip.Addr{})
	dateType   = reflect.TypeOf(Date{})
)

func (d decoder) value(n *yaml.Node, p Path, v reflect.Value) {
	if n.Kind == yaml.AliasNode {
		n = n.Alias
		d.viaAlias = true
	}
	if d.viaAlias {
		if *d.aliased++; *d.aliased > maxAliased {
			if *d.aliased == maxAliased+1 {
				d.r.add("", "aliases expand to more than %d values: write the manifest out in full", maxAliased)
			}
			return
		}
	}
	d.r.src.lines[p] = n.Line
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return // an explicit null leaves the zero value; validation decides
	}
	switch {
	case v.Type() == prefixType:
		if s, ok := d.scalar(n, p, "a CIDR such as 10.0.0.0/16"); ok {
			pfx, err := netip.ParsePrefix(s)
			if err != nil || !pfx.Addr().Is4() {
				d.r.add(p, "%q is not an IPv4 CIDR such as 10.0.0.0/16", s)
				return
			}
			if pfx != pfx.Masked() {
				d.r.add(p, "%q has host bits set: did you mean %s?", s, pfx.Masked())
				return
			}
			v.Set(reflect.ValueOf(pfx))
		}
	case v.Type() == addrType:
		if s, ok := d.scalar(n, p, "an IPv4 address"); ok {
			a, err := netip.ParseAddr(s)
			if err != nil || !a.Is4() {
				d.r.add(p, "%q is not an IPv4 address", s)
				return
			}
			v.Set(reflect.ValueOf(a))
		}
	case v.Type() == dateType:
		if s, ok := d.scalar(n, p, "a date such as 2026-01-31"); ok {
			t, err := time.Parse(time.DateOnly, s)
			if err != nil {
				d.r.add(p, "%q is not a date of the form YYYY-MM-DD", s)
				return
			}
			v.Set(reflect.ValueOf(Date{t}))
		}
	case v.Kind() == reflect.Pointer:
		v.Set(reflect.New(v.Type().Elem()))
		d.value(n, p, v.Elem())
	case v.Kind() == reflect.Struct:
		d.object(n, p, v)
	case v.Kind() == reflect.Map:
		d.mapping(n, p, v)
	case v.Kind() == reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			d.r.add(p, "must be a list")
			return
		}
		s := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
		for i, item := range n.Content {
			d.value(item, p.Index(i), s.Index(i))
		}
		v.Set(s)
	case v.Kind() == reflect.String:
		if s, ok := d.scalar(n, p, "a string"); ok {
			v.SetString(s)
		}
	case v.Kind() == reflect.Int64:
		if s, ok := d.scalar(n, p, "a whole number"); ok {
			i, err := strconv.ParseInt(s, 10, 64)
			switch {
			case err == nil && quoted(n):
				d.r.add(p, "%q is quoted: write the number without quotes", s)
				return
			case err != nil || n.Tag != "!!int":
				d.r.add(p, "%q is not a whole number", s)
				return
			}
			v.SetInt(i)
		}
	case v.Kind() == reflect.Bool:
		if s, ok := d.scalar(n, p, "true or false"); ok {
			// Only YAML 1.2 booleans: an explicit !!bool tag on another
			// word (yes, on, 1) must not silently read as false.
			b, known := yamlBools[s]
			switch {
			case known && quoted(n):
				d.r.add(p, "%q is quoted: write true or false without quotes", s)
				return
			case !known || n.Tag != "!!bool":
				d.r.add(p, "%q is not true or false", s)
				return
			}
			v.SetBool(b)
		}
	default:
		panic(fmt.Sprintf("manifest: no decoder for %s", v.Type()))
	}
}

var yamlBools = map[string]bool{"true": true, "True": true, "TRUE": true, "false": false, "False": false, "FALSE": false}

func quoted(n *yaml.Node) bool {
	return n.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle) != 0
}

// scalar returns the text of a scalar node, or reports that one was expected.
func (d decoder) scalar(n *yaml.Node, p Path, want string) (string, bool) {
	if n.Kind != yaml.ScalarNode {
		d.r.add(p, "must be %s", want)
		return "", false
	}
	return n.Value, true
}

func (d decoder) object(n *yaml.Node, p Path, v reflect.Value) {
	if n.Kind != yaml.MappingNode {
		d.r.add(p, "must be a mapping of fields")
		return
	}
	fields := map[string]int{}
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		fields[strings.Split(t.Field(i).Tag.Get("yaml"), ",")[0]] = i
	}
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		key, val := n.Content[i], n.Content[i+1]
		if !d.key(key, p, seen) {
			continue
		}
		fp := p.Child(key.Value)
		idx, ok := fields[key.Value]
		if !ok {
			d.r.src.lines[fp] = key.Line
			d.r.add(fp, "unknown field (known fields: %s)", knownFields(t))
			continue
		}
		d.value(val, fp, v.Field(idx))
	}
}

func (d decoder) mapping(n *yaml.Node, p Path, v reflect.Value) {
	if n.Kind != yaml.MappingNode {
		d.r.add(p, "must be a mapping of names to values")
		return
	}
	m := reflect.MakeMap(v.Type())
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		key, val := n.Content[i], n.Content[i+1]
		if !d.key(key, p, seen) {
			continue
		}
		elem := reflect.New(v.Type().Elem()).Elem()
		d.value(val, p.Child(key.Value), elem)
		m.SetMapIndex(reflect.ValueOf(key.Value), elem)
	}
	v.Set(m)
}

// key reports whether a mapping key of the mapping at p can be decoded: it
// must be plain text and appear once (else the last value would silently win,
// say tier: 3 below tier: 1).
func (d decoder) key(key *yaml.Node, p Path, seen map[string]int) bool {
	if key.Kind != yaml.ScalarNode {
		d.r.src.lines[p] = key.Line
		d.r.add(p, "has a key that is not plain text: keys are field names")
		return false
	}
	fp := p.Child(key.Value)
	if first, dup := seen[key.Value]; dup {
		d.r.src.lines[fp] = key.Line
		d.r.add(fp, "is set twice (first on line %d): set it once", first)
		return false
	}
	seen[key.Value] = key.Line
	return true
}

func knownFields(t reflect.Type) string {
	names := make([]string, 0, t.NumField())
	for i := 0; i < t.NumField(); i++ {
		names = append(names, strings.Split(t.Field(i).Tag.Get("yaml"), ",")[0])
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}
