package shard

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
)

// The CDK writes manifest.json and tree.json with Node.js's JSON.stringify,
// which keeps the order objects were built in; Go's maps would sort it. An
// object here keeps its members in file order, and its values as written.

type member struct {
	key   string
	value json.RawMessage
}

type object struct{ members []member }

func parseObject(raw []byte) (*object, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil, fmt.Errorf("not a JSON object")
	}
	o := &object{}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return nil, err
		}
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, err
		}
		o.members = append(o.members, member{key: t.(string), value: v})
	}
	return o, nil
}

func (o *object) get(key string) (json.RawMessage, bool) {
	for _, m := range o.members {
		if m.key == key {
			return m.value, true
		}
	}
	return nil, false
}

func (o *object) set(key string, v json.RawMessage) {
	for i, m := range o.members {
		if m.key == key {
			o.members[i].value = v
			return
		}
	}
	o.members = append(o.members, member{key, v})
}

// insertBefore inserts ms before the first member for which at is true,
// or at the end.
func (o *object) insertBefore(ms []member, at func(member) bool) {
	i := len(o.members)
	for j, m := range o.members {
		if at(m) {
			i = j
			break
		}
	}
	o.members = append(o.members[:i], append(ms, o.members[i:]...)...)
}

// compact is the object as JSON without spaces.
func (o *object) compact() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, m := range o.members {
		if i > 0 {
			b.WriteByte(',')
		}
		k, err := json.Marshal(m.key)
		if err != nil {
			return nil, err
		}
		b.Write(k)
		b.WriteByte(':')
		if err := json.Compact(&b, m.value); err != nil {
			return nil, err
		}
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// nested is a JSON file whose object at path (keys from the top) is kept
// in order for editing: the artifacts of manifest.json, the root's
// children of tree.json.
type nested struct {
	top   *object
	path  []string
	inner *object
}

func readNested(file string, path ...string) (*nested, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("merging the synthesis: %w", err)
	}
	top, err := parseObject(b)
	if err != nil {
		return nil, fmt.Errorf("merging the synthesis: %s: %w", file, err)
	}
	n := &nested{top: top, path: path, inner: top}
	for _, k := range path {
		v, ok := n.inner.get(k)
		if !ok {
			return nil, fmt.Errorf("merging the synthesis: %s has no %s", file, k)
		}
		if n.inner, err = parseObject(v); err != nil {
			return nil, fmt.Errorf("merging the synthesis: %s: %s: %w", file, k, err)
		}
	}
	return n, nil
}

// write writes the file back, indented by indent as JSON.stringify does,
// or compact without one, and, as the CDK, without a final newline.
func (n *nested) write(file, indent string) error {
	// Fold the edited object back into its parents, innermost first.
	objs := []*object{n.top}
	for _, k := range n.path[:max(0, len(n.path)-1)] {
		v, _ := objs[len(objs)-1].get(k)
		o, err := parseObject(v)
		if err != nil {
			return err
		}
		objs = append(objs, o)
	}
	v, err := n.inner.compact()
	if err != nil {
		return err
	}
	for i := len(n.path) - 1; i >= 0; i-- {
		objs[i].set(n.path[i], v)
		if v, err = objs[i].compact(); err != nil {
			return err
		}
	}
	if indent != "" {
		var out bytes.Buffer
		if err := json.Indent(&out, v, "", indent); err != nil {
			return err
		}
		v = out.Bytes()
	}
	return os.WriteFile(file, v, 0o644)
}
