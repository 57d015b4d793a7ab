package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing/fstest"
	texttemplate "text/template"
	"time"

	"github.com/renderenv/renderenv/internal/manifest"
)

// newProduction is `renderenv new NAME --tier N --account ID [flags]`: it
// writes DIR/NAME.yaml, a commented manifest with the first free range of
// the estate, the studio's region, and the render profile of a production
// of the same tier to start from. It writes only a manifest that validates
// with the rest of the folder. Pure Go.
//
// Exit status: 0 when written, 1 when the result would not validate (or the
// folder does not), 2 on bad usage.
func newProduction(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("new", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	o := newOptions{}
	fs.Int64Var(&o.tier, "tier", 0, "1, 2 or 3")
	fs.StringVar(&o.account, "account", "", "the AWS account (12 digits)")
	fs.StringVar(&o.region, "region", "", "default: the studio's region")
	size := fs.String("size", "", "the VPC's prefix length, /16 to /22 (default /16 for Tier 1, /20 otherwise)")
	fs.StringVar(&o.dir, "dir", "productions", "the manifest folder")
	fs.StringVar(&o.owner, "owner", "", "the owner's email (default: studio.yaml's owner)")
	fs.StringVar(&o.costCentre, "cost-centre", "", "the cost centre every resource is tagged with")
	fs.StringVar(&o.ami, "ami", "", "the render image: ami-... or ssm:/parameter (default: that of a production of the same tier)")
	bad := func(msg string) int { return badUsage(stderr, "new", msg) }
	names, code, done := parseFlags(fs, args, stdout, stderr)
	switch {
	case done:
		return code
	case len(names) != 1:
		return bad("name one production")
	case o.tier < 1 || o.tier > 3:
		return bad("--tier: use 1, 2 or 3")
	case o.account == "":
		return bad("--account is required")
	case o.costCentre == "":
		return bad("--cost-centre is required: every resource of the production is tagged with it (ISE 1.2)")
	}
	o.name = names[0]
	if *size != "" {
		bits, err := strconv.Atoi(strings.TrimPrefix(*size, "/"))
		if err != nil || bits < 16 || bits > 22 {
			return bad(fmt.Sprintf("--size %q: use /16 to /22", *size))
		}
		o.bits = bits
	}
	text, err := o.manifest()
	if err != nil {
		fmt.Fprintf(stderr, "renderenv new: %v\n", err)
		return 1
	}
	path := filepath.Join(o.dir, o.name+".yaml")
	if errs := o.validates(text); len(errs) > 0 {
		for _, e := range errs {
			fmt.Fprintln(stderr, e.Error())
		}
		fmt.Fprintf(stderr, "renderenv new: %s would not validate; nothing was written\n", path)
		return 1
	}
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		fmt.Fprintf(stderr, "renderenv new: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "%s: Tier %d production %s in %s, %s\n", path, o.tier, o.name, o.account, o.placement)
	return 0
}

type newOptions struct {
	name, account, region, dir, owner, costCentre, ami string
	tier                                               int64
	bits                                               int
	placement                                          string // what the summary says of its network
}

// manifest reads the folder and writes the new production's manifest.
func (o *newOptions) manifest() (string, error) {
	e, errs := manifest.LoadDir(o.dir)
	if len(errs) > 0 {
		return "", fmt.Errorf("%s does not validate as it is; fix it first:\n%s", o.dir, errs.Error())
	}
	if _, err := os.Stat(filepath.Join(o.dir, o.name+".yaml")); err == nil {
		return "", fmt.Errorf("%s already exists", filepath.Join(o.dir, o.name+".yaml"))
	}
	for _, p := range e.Productions {
		if p.Name == o.name {
			return "", fmt.Errorf("%s already names a production %s", p.Source.Name, o.name)
		}
	}
	s := &e.Studio
	m := newManifest{Name: o.name, Tier: o.tier, Label: manifest.Tiers[o.tier].Label, Account: o.account, Region: o.region,
		Owner: o.owner, CostCentre: o.costCentre, Start: manifest.Today().Format(time.DateOnly),
		End: manifest.Today().AddDate(1, 0, 0).Format(time.DateOnly)}
	if m.Region == "" {
		m.Region = s.Region
	}
	if m.Owner == "" {
		if !strings.Contains(s.Owner, "@") {
			return "", errors.New("--owner is required: studio.yaml names no owner email to start from")
		}
		m.Owner = s.Owner
	}
	m.Render, m.RenderFrom = renderFrom(e, o.tier)
	if o.ami != "" {
		m.Render.Ami = o.ami
	}
	if m.Render.Ami == "" {
		return "", errors.New("--ami is required: no production of the folder has a render profile to start from")
	}
	if pool := s.PoolFor(o.account, m.Region); o.tier == 3 && pool != nil {
		o.placement = "in the pool of account " + o.account
		return m.text()
	}
	bits := o.bits
	if bits == 0 {
		bits = 20
		if o.tier == 1 {
			bits = 16
		}
	}
	cidr, ok := e.FreeRange(bits)
	if !ok {
		return "", fmt.Errorf("no /%d of the private ranges is free in this estate: try a smaller --size", bits)
	}
	m.Cidr, m.Bits, m.DedicatedVpc = cidr.String(), bits, o.tier == 3
	o.placement = "its own VPC " + m.Cidr
	return m.text()
}

// renderFrom is the render profile of the first production of the tier (or
// of any), to start from.
func renderFrom(e *manifest.Estate, tier int64) (manifest.RenderProfile, string) {
	for _, sameTier := range []bool{true, false} {
		for _, p := range e.Productions {
			if p.Render.Ami != "" && (!sameTier || p.Tier == tier) {
				return p.Render, filepath.Base(p.Source.Name)
			}
		}
	}
	return manifest.RenderProfile{InstanceTypes: []string{"c6i.8xlarge"}, Purchase: "on-demand", RootVolumeGiB: 60}, ""
}

// validates loads the folder with the new manifest in it.
func (o *newOptions) validates(text string) manifest.ErrorList {
	files := fstest.MapFS{}
	err := fs.WalkDir(os.DirFS(o.dir), ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(filepath.Join(o.dir, path))
		files[path] = &fstest.MapFile{Data: b}
		return err
	})
	if err != nil {
		return manifest.ErrorList{{File: o.dir, Message: err.Error()}}
	}
	files[o.name+".yaml"] = &fstest.MapFile{Data: []byte(text)}
	_, errs := manifest.Load(files, o.dir)
	return errs
}

type newManifest struct {
	Name, Label, Account, Region, Owner, CostCentre, Start, End string
	Tier                                                        int64
	Cidr                                                        string
	Bits                                                        int
	DedicatedVpc                                                bool
	Render                                                      manifest.RenderProfile
	RenderFrom                                                  string
}

func (m newManifest) text() (string, error) {
	var b strings.Builder
	err := newTemplate.Execute(&b, m)
	return b.String(), err
}

var newTemplate = texttemplate.Must(texttemplate.New("new").Funcs(texttemplate.FuncMap{"join": strings.Join}).Parse(`# Tier {{.Tier}} ({{.Label}}), written by renderenv new. Fields: README.md.
name: {{.Name}}
# 1 pre-release (an account, VPC and keys of its own), 2 post-release,
# 3 general; ask for more with isolation, never less.
tier: {{.Tier}}
# The AWS account it runs in, quoted.
account: "{{.Account}}"
# The studio's region: the Transit Gateway that links it is regional.
region: {{.Region}}
{{- if .Cidr}}
# Its VPC: the first free /{{.Bits}} of the private ranges, overlapping nothing
# of the estate (productions, pools, management, on-premises, retired).
vpcCidr: {{.Cidr}}
{{- end}}
{{- if .DedicatedVpc}}
# The account has no pool in this region, so a VPC of its own.
isolation:
  dedicatedVpc: true
{{- end}}
# Every resource is tagged with both (ISE 1.2).
costCentre: {{.CostCentre}}
owner: {{.Owner}}
# After endDate, synthesis warns until the production is closed (ISE 6.2).
startDate: {{.Start}}
endDate: {{.End}}
# The render nodes{{if .RenderFrom}}, as {{.RenderFrom}} has them{{end}}: the image (ami-... or an
# ssm:/ parameter), instance types, purchase (spot or on-demand), volumes.
render:
  ami: {{.Render.Ami}}
  instanceTypes: [{{join .Render.InstanceTypes ", "}}]
  purchase: {{.Render.Purchase}}
  rootVolumeGiB: {{.Render.RootVolumeGiB}}
{{- if .Render.ScratchVolumeGiB}}
  scratchVolumeGiB: {{.Render.ScratchVolumeGiB}}
{{- end}}
`))
