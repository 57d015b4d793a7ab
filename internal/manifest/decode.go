package manifest

import (
	"bytes"
	"fmt"
	"net/netip"
	"reflect"
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
	if err := dec.Decode(&doc); err != nil {
		r.add("", "invalid YAML: %s", strings.TrimPrefix(err.Error(), "yaml: "))
		return errs
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		src.lines[""] = extra.Line
		r.add("", "more than one YAML document: one manifest per file")
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
	d := decoder{r: r}
	d.value(root, "", reflect.ValueOf(out).Elem())
	return errs
}

type decoder struct{ r reporter }

var (
	prefixType = reflect.TypeOf(netip.Prefix{})
	addrType   = reflect.TypeOf(netip.Addr{})
	dateType   = reflect.TypeOf(Date{})
)

func (d decoder) value(n *yaml.Node, p Path, v reflect.Value) {
	if n.Kind == yaml.AliasNode {
		n = n.Alias
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
			if err != nil || n.Tag != "!!int" {
				d.r.add(p, "%q is not a whole number", s)
				return
			}
			v.SetInt(i)
		}
	case v.Kind() == reflect.Bool:
		if s, ok := d.scalar(n, p, "true or false"); ok {
			if n.Tag != "!!bool" {
				d.r.add(p, "%q is not true or false", s)
				return
			}
			v.SetBool(s == "true" || s == "True" || s == "TRUE")
		}
	default:
		panic(fmt.Sprintf("manifest: no decoder for %s", v.Type()))
	}
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
	for i := 0; i+1 < len(n.Content); i += 2 {
		key, val := n.Content[i], n.Content[i+1]
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
	for i := 0; i+1 < len(n.Content); i += 2 {
		key, val := n.Content[i], n.Content[i+1]
		elem := reflect.New(v.Type().Elem()).Elem()
		d.value(val, p.Child(key.Value), elem)
		m.SetMapIndex(reflect.ValueOf(key.Value), elem)
	}
	v.Set(m)
}

func knownFields(t reflect.Type) string {
	names := make([]string, 0, t.NumField())
	for i := 0; i < t.NumField(); i++ {
		names = append(names, strings.Split(t.Field(i).Tag.Get("yaml"), ",")[0])
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}
