package manifest

import (
	"io/fs"
	"maps"
	"path"
	"slices"
	"sort"
	"strings"
)

// StudioFile is the name of the studio manifest inside a manifest folder.
const StudioFile = "studio.yaml"

// Estate is a whole manifest folder: the studio and its productions.
type Estate struct {
	Studio       Studio
	StudioSource *Source
	Productions  []ProductionFile
}

// ProductionFile is one production manifest and where it came from.
type ProductionFile struct {
	Production
	Source *Source
}

// Load reads and validates every manifest in fsys. label is how files are
// named in errors (the folder as the user wrote it). The estate is returned
// only when the error list is empty.
func Load(fsys fs.FS, label string) (*Estate, ErrorList) {
	e, errs := Read(fsys, label)
	if e != nil {
		errs = append(errs, Validate(e)...)
	}
	if len(errs) > 0 {
		return nil, errs.Sorted()
	}
	return e, nil
}

// Read decodes every manifest in fsys without the semantic checks.
func Read(fsys fs.FS, label string) (*Estate, ErrorList) {
	var errs ErrorList
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return nil, ErrorList{{File: label, Message: "cannot read manifest folder: " + cleanIOError(err)}}
	}
	e := &Estate{}
	var sawStudio bool
	var names []string
	for _, ent := range entries {
		name := ent.Name()
		if ent.IsDir() || strings.HasPrefix(name, ".") {
			continue
		}
		if ext := path.Ext(name); ext != ".yaml" && ext != ".yml" {
			continue
		}
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		src := &Source{Name: joinLabel(label, name)}
		data, err := fs.ReadFile(fsys, name)
		if err != nil {
			errs = append(errs, Error{File: src.Name, Message: "cannot read file: " + cleanIOError(err)})
			continue
		}
		if name == StudioFile {
			if sawStudio {
				continue
			}
			sawStudio = true
			e.StudioSource = src
			errs = append(errs, decode(data, src, &e.Studio)...)
			continue
		}
		// Strict defaults: data events are on unless a manifest turns them off.
		p := Production{Audit: Audit{S3DataEvents: true}}
		errs = append(errs, decode(data, src, &p)...)
		e.Productions = append(e.Productions, ProductionFile{Production: p, Source: src})
	}
	if !sawStudio {
		errs = append(errs, Error{File: joinLabel(label, StudioFile), Message: "studio manifest not found: every manifest folder needs one"})
		e.StudioSource = &Source{Name: joinLabel(label, StudioFile), failed: true}
	}
	return e, errs
}

func joinLabel(label, name string) string {
	if label == "" || label == "." {
		return name
	}
	return strings.TrimSuffix(label, "/") + "/" + name
}

func cleanIOError(err error) string {
	if pe, ok := err.(*fs.PathError); ok {
		return pe.Err.Error()
	}
	return err.Error()
}

// Only keeps the named productions, in the order of the estate. Unknown names
// are errors naming the context key, since they come from the command line.
func (e *Estate) Only(names []string) ErrorList {
	want := map[string]bool{}
	for _, n := range names {
		want[n] = true
	}
	var kept []ProductionFile
	for _, p := range e.Productions {
		if want[p.Name] {
			kept = append(kept, p)
			delete(want, p.Name)
		}
	}
	var errs ErrorList
	for _, n := range slices.Sorted(maps.Keys(want)) {
		errs = append(errs, Error{File: "context", Field: "only", Message: "no production named " + quote(n)})
	}
	if len(errs) == 0 {
		e.Productions = kept
	}
	return errs
}

// Resolved returns every production with its tier decisions made.
func (e *Estate) Resolved() []Resolved {
	out := make([]Resolved, len(e.Productions))
	for i, p := range e.Productions {
		out[i] = Resolve(&e.Studio, p.Production)
	}
	return out
}

func quote(s string) string { return "\"" + s + "\"" }
