package manifest

// Validation tests in the style of Terraform's internal/configs: every case is
// a manifest folder with exactly one thing broken, and the test pins the exact
// and complete list of errors the folder yields, in the order Load reports
// them (file, then line).
//
// testdata/valid is the base estate, a copy of the acme fixture (kept as a
// copy so that editing the fixture does not move the pinned lines).
// Odd files (empty, binary, broken YAML, ...) are real folders under
// testdata/invalid; rule cases are the base estate with one edit, in the
// tables below.
//
// To add a rule case, write todo as its want and run the test: the failure
// prints the errors as Go, to paste in once you have checked each one.

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/renderenv/renderenv/internal/fixtures"
)

// label is how every test names the manifest folder in errors.
const label = "productions"

// readFolder returns the .yaml and .yml files of a folder by name.
func readFolder(t testing.TB, dir string) map[string]string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]string{}
	for _, ent := range ents {
		if ext := filepath.Ext(ent.Name()); ext != ".yaml" && ext != ".yml" {
			continue
		}
		data, err := os.ReadFile(filepath.Join(dir, ent.Name()))
		if err != nil {
			t.Fatal(err)
		}
		files[ent.Name()] = string(data)
	}
	return files
}

// baseEstate is testdata/valid, the valid base every rule case edits.
func baseEstate(t testing.TB) map[string]string {
	return readFolder(t, filepath.Join("testdata", "valid"))
}

// An edit changes the files of an estate; it fails the test when it no longer
// applies, so that a case cannot silently stop breaking anything.
type edit func(t testing.TB, files map[string]string)

// replace replaces old, which must occur exactly once in file, by new.
func replace(file, old, new string) edit {
	return func(t testing.TB, files map[string]string) {
		t.Helper()
		if n := strings.Count(files[file], old); n != 1 {
			t.Fatalf("edit of %s: %q occurs %d times, want once", file, old, n)
		}
		files[file] = strings.Replace(files[file], old, new, 1)
	}
}

// replaceAll replaces old by new in every file.
func replaceAll(old, new string) edit {
	return func(t testing.TB, files map[string]string) {
		t.Helper()
		found := false
		for name, data := range files {
			found = found || strings.Contains(data, old)
			files[name] = strings.ReplaceAll(data, old, new)
		}
		if !found {
			t.Fatalf("edit: %q occurs in no file", old)
		}
	}
}

// appendTo adds text at the end of file.
func appendTo(file, text string) edit {
	return func(t testing.TB, files map[string]string) {
		t.Helper()
		if _, ok := files[file]; !ok {
			t.Fatalf("edit: no file %s", file)
		}
		files[file] += text
	}
}

// remove deletes a file.
func remove(file string) edit {
	return func(t testing.TB, files map[string]string) {
		t.Helper()
		if _, ok := files[file]; !ok {
			t.Fatalf("edit: no file %s", file)
		}
		delete(files, file)
	}
}

// copyFile copies a file.
func copyFile(from, to string) edit {
	return func(t testing.TB, files map[string]string) {
		t.Helper()
		data, ok := files[from]
		if !ok {
			t.Fatalf("edit: no file %s", from)
		}
		files[to] = data
	}
}

// write sets the whole content of a file.
func write(file, content string) edit {
	return func(t testing.TB, files map[string]string) { files[file] = content }
}

// rename moves a file.
func rename(from, to string) edit {
	return func(t testing.TB, files map[string]string) {
		t.Helper()
		data, ok := files[from]
		if !ok {
			t.Fatalf("edit: no file %s", from)
		}
		delete(files, from)
		files[to] = data
	}
}

func edited(t testing.TB, edits []edit) fstest.MapFS {
	t.Helper()
	files := baseEstate(t)
	for _, e := range edits {
		e(t, files)
	}
	return mapFS(files)
}

func mapFS(files map[string]string) fstest.MapFS {
	fsys := fstest.MapFS{}
	for name, data := range files {
		fsys[name] = &fstest.MapFile{Data: []byte(data)}
	}
	return fsys
}

// load runs Load and returns its errors as the lines the CLI prints. It holds
// Load to its contract: an estate exactly when there are no errors.
func load(t testing.TB, fsys fs.FS) []string {
	t.Helper()
	e, errs := Load(fsys, label)
	if (e == nil) != (len(errs) > 0) {
		t.Fatalf("Load returned estate %v with %d errors: want an estate exactly when there are no errors", e != nil, len(errs))
	}
	got := make([]string, len(errs))
	for i, err := range errs {
		got[i] = err.Error()
	}
	return got
}

// assertErrors fails unless got is exactly want, in order.
func assertErrors(t *testing.T, got, want []string) {
	t.Helper()
	if slices.Equal(got, want) {
		return
	}
	var b strings.Builder
	for _, w := range want {
		if !slices.Contains(got, w) {
			fmt.Fprintf(&b, "\nmissing:    %s", w)
		}
	}
	for _, g := range got {
		if !slices.Contains(want, g) {
			fmt.Fprintf(&b, "\nunexpected: %s", g)
		}
	}
	if b.Len() == 0 {
		b.WriteString("\nsame errors in another order")
	}
	b.WriteString("\ngot, as Go:")
	for _, g := range got {
		fmt.Fprintf(&b, "\n\t%q,", g)
	}
	t.Errorf("errors differ:%s", b.String())
}

func TestBaseEstateIsValid(t *testing.T) {
	assertErrors(t, load(t, edited(t, nil)), nil)
}

func TestAcmeFixtureIsValid(t *testing.T) {
	e, errs := Load(fixtures.Acme, label)
	if len(errs) > 0 || e == nil {
		t.Fatalf("the acme fixture is invalid:\n%v", errs)
	}
	var names []string
	for _, p := range e.Productions {
		names = append(names, p.Name)
	}
	if want := fixtures.AcmeProductions; !slices.Equal(names, want) {
		t.Errorf("productions %v, want %v", names, want)
	}
}

// folderCases are the real folders under testdata/invalid: files that are odd
// as files. Each holds studio.yaml and the broken file, which is the only file
// that differs from testdata/valid.
var folderCases = []struct {
	dir    string
	broken string
	want   []string
}{
	{"empty-file", "nightfall.yaml", []string{
		"productions/nightfall.yaml: file is empty",
	}},
	{"blank-file", "nightfall.yaml", []string{
		"productions/nightfall.yaml: file is empty",
	}},
	{"comments-only", "nightfall.yaml", []string{
		"productions/nightfall.yaml: file holds no YAML document, only comments",
	}},
	{"binary-file", "nightfall.yaml", []string{
		"productions/nightfall.yaml: not a text file: expected a YAML document",
	}},
	{"not-utf8", "nightfall.yaml", []string{
		"productions/nightfall.yaml: not a text file: expected a YAML document",
	}},
	{"broken-yaml", "nightfall.yaml", []string{
		"productions/nightfall.yaml:14: invalid YAML: could not find expected ':'",
	}},
	{"two-documents", "nightfall.yaml", []string{
		"productions/nightfall.yaml:25: more than one YAML document: one manifest per file",
	}},
	{"broken-yaml-after-document", "nightfall.yaml", []string{
		"productions/nightfall.yaml:26: invalid YAML: mapping values are not allowed in this context",
	}},
	{"top-level-list", "nightfall.yaml", []string{
		"productions/nightfall.yaml:2: expected a mapping of fields at the top level",
	}},
	{"missing-studio", "studio.yaml", []string{
		"productions/studio.yaml: studio manifest not found: every manifest folder needs one",
	}},
	{"duplicate-name", "nightfall.yml", []string{
		"productions/nightfall.yaml:4: account: 333333333333 is also used by productions/nightfall.yml: a dedicated account holds one production only",
		"productions/nightfall.yml:2: name: \"nightfall\" is already the name of productions/nightfall.yaml",
		"productions/nightfall.yml:4: account: 333333333333 is also used by productions/nightfall.yaml: a dedicated account holds one production only",
		"productions/nightfall.yml:6: vpcCidr: 10.20.0.0/16 overlaps 10.20.0.0/16 (productions/nightfall.yaml vpcCidr)",
	}},
}

func TestInvalidFolders(t *testing.T) {
	base := baseEstate(t)
	listed := map[string]bool{}
	for _, tc := range folderCases {
		listed[tc.dir] = true
		t.Run(tc.dir, func(t *testing.T) {
			dir := filepath.Join("testdata", "invalid", tc.dir)
			files := readFolder(t, dir)
			// Exactly one thing broken: every other file is the base file.
			for name, data := range files {
				if name != tc.broken && data != base[name] {
					t.Errorf("%s differs from testdata/valid/%s: only %s may", name, name, tc.broken)
				}
			}
			assertErrors(t, load(t, mapFS(files)), tc.want)
		})
	}
	ents, err := os.ReadDir(filepath.Join("testdata", "invalid"))
	if err != nil {
		t.Fatal(err)
	}
	for _, ent := range ents {
		if !listed[ent.Name()] {
			t.Errorf("testdata/invalid/%s has no case in folderCases", ent.Name())
		}
	}
}

// pipeline is a valid pipeline block for studio.yaml.
const pipeline = `pipeline:
  enabled: true
  connectionArn: arn:aws:codeconnections:us-west-2:111111111111:connection/0123abcd-0123-4567-89ab-0123456789ab
  repository: acme/renderenv
  branch: main
`

// knownStudio and knownProduction end every unknown-field message.
const (
	knownStudio     = "(known fields: adminSourceCidrs, alerts, audit, availabilityZones, breakGlassRole, deployers, exchangeAccount, licenseServers, logArchiveAccount, managementAccount, managementVpcCidr, onPremises, organizationId, organizationManagementAccount, owner, people, pipeline, pools, region, retired, scheduler, studio, transitGatewayAsn, transitGatewayId)"
	knownProduction = "(known fields: account, audit, availabilityZones, costCentre, endDate, endpoints, ingest, isolation, name, owner, people, region, render, renderProfiles, reusesRangeOf, startDate, status, tier, vendors, vpcCidr)"
)

type ruleCase struct {
	name  string
	edits []edit
	want  []string
}

// todo marks a want not yet written; runRuleCases refuses it.
var todo []string

// e makes a case's edit list read as a list.
func e(edits ...edit) []edit { return edits }

// decodeCases break how a file decodes: unknown fields, wrong types and
// values that do not parse.
var decodeCases = []ruleCase{
	{"unknown top-level field", e(appendTo("studio.yaml", "regions: [us-east-1]\n")), []string{
		"productions/studio.yaml:32: regions: unknown field " + knownStudio,
	}},
	{"unknown nested field", e(replace("studio.yaml", "    bgpAsn: 65000\n", "    bgpAsn: 65000\n    psk: secret\n")), []string{
		"productions/studio.yaml:15: onPremises.vpn.psk: unknown field (known fields: bgpAsn, customerGatewayIp)",
	}},
	{"unknown field in a list item", e(replace("studio.yaml", "    port: 4101\n", "    port: 4101\n    host: nuke.example.com\n")), []string{
		"productions/studio.yaml:24: licenseServers[1].host: unknown field (known fields: cidr, name, port)",
	}},
	{"unknown field in a render profile", e(replace("nightfall.yaml", "    purchase: on-demand\n", "    purchase: on-demand\n    spot: false\n")), []string{
		"productions/nightfall.yaml:22: renderProfiles.gpu.spot: unknown field (known fields: ami, instanceTypes, purchase, rootDeviceName, rootVolumeGiB, scratchVolumeGiB)",
	}},
	{"unknown production field", e(replace("harbour.yaml", "tier: 2\n", "tier: 2\nteir: 2\n")), []string{
		"productions/harbour.yaml:4: teir: unknown field " + knownProduction,
	}},
	{"string for int", e(replace("studio.yaml", "transitGatewayAsn: 64512", "transitGatewayAsn: private")), []string{
		"productions/studio.yaml:15: transitGatewayAsn: \"private\" is not a whole number",
	}},
	{"quoted int", e(replace("nightfall.yaml", "tier: 1", `tier: "1"`)), []string{
		"productions/nightfall.yaml:3: tier: \"1\" is quoted: write the number without quotes",
	}},
	{"float for int", e(replace("nightfall.yaml", "rootVolumeGiB: 100", "rootVolumeGiB: 100.5")), []string{
		"productions/nightfall.yaml:15: render.rootVolumeGiB: \"100.5\" is not a whole number",
	}},
	{"hex int", e(replace("studio.yaml", "port: 1715", "port: 0x6b3")), []string{
		"productions/studio.yaml:20: licenseServers[0].port: \"0x6b3\" is not a whole number",
	}},
	{"list for int", e(replace("studio.yaml", "port: 1715", "port: [1715]")), []string{
		"productions/studio.yaml:20: licenseServers[0].port: must be a whole number",
	}},
	{"list for string", e(replace("studio.yaml", "studio: acme", "studio: [acme]")), []string{
		"productions/studio.yaml:2: studio: must be a string",
	}},
	{"mapping for string", e(replace("harbour.yaml", "costCentre: CC-2040", "costCentre: {code: CC-2040}")), []string{
		"productions/harbour.yaml:7: costCentre: must be a string",
	}},
	{"mapping for list", e(replace("studio.yaml", "adminSourceCidrs: [198.51.100.0/24]", "adminSourceCidrs: {office: 198.51.100.0/24}")), []string{
		"productions/studio.yaml:16: adminSourceCidrs: must be a list",
	}},
	{"scalar for list", e(replace("nightfall.yaml", "endpoints: [ecr.api, ecr.dkr]", "endpoints: ecr.api")), []string{
		"productions/nightfall.yaml:24: endpoints: must be a list",
	}},
	{"scalar for fields", e(replace("studio.yaml", "scheduler:\n  ports: [4433]", "scheduler: 4433")), []string{
		"productions/studio.yaml:24: scheduler: must be a mapping of fields",
	}},
	{"list for profiles", e(replace("nightfall.yaml", "renderProfiles:\n  gpu:\n", "renderProfiles:\n  - gpu:\n")), []string{
		"productions/nightfall.yaml:18: renderProfiles: must be a mapping of names to values",
	}},
	{"list for CIDR", e(replace("studio.yaml", "managementVpcCidr: 10.0.0.0/16", "managementVpcCidr: [10.0.0.0/16]")), []string{
		"productions/studio.yaml:9: managementVpcCidr: must be a CIDR such as 10.0.0.0/16",
	}},
	{"list for address", e(replace("studio.yaml", "customerGatewayIp: 203.0.113.10", "customerGatewayIp: [203.0.113.10]")), []string{
		"productions/studio.yaml:13: onPremises.vpn.customerGatewayIp: must be an IPv4 address",
	}},
	{"list for date", e(replace("harbour.yaml", "startDate: 2026-03-01", "startDate: [2026-03-01]")), []string{
		"productions/harbour.yaml:9: startDate: must be a date such as 2026-01-31",
	}},
	{"mapping for bool", e(replace("lighthouse.yaml", "dedicatedVpc: true", "dedicatedVpc: {vpc: true}")), []string{
		"productions/lighthouse.yaml:6: vpcCidr: a tier 3 production has a VPC of its own only with isolation.dedicatedVpc: true; set it to keep this VPC, or remove vpcCidr to join the pool of account 555555555555",
		"productions/lighthouse.yaml:18: isolation.dedicatedVpc: must be true or false",
	}},
	{"word for bool", e(replace("lighthouse.yaml", "dedicatedKeys: true", "dedicatedKeys: yes")), []string{
		"productions/lighthouse.yaml:19: isolation.dedicatedKeys: \"yes\" is not true or false",
	}},
	{"tagged word for bool", e(replace("lighthouse.yaml", "dedicatedKeys: true", "dedicatedKeys: !!bool yes")), []string{
		"productions/lighthouse.yaml:19: isolation.dedicatedKeys: \"yes\" is not true or false",
	}},
	{"quoted bool", e(replace("lighthouse.yaml", "s3DataEvents: false", `s3DataEvents: "false"`)), []string{
		"productions/lighthouse.yaml:21: audit.s3DataEvents: \"false\" is quoted: write true or false without quotes",
	}},
	{"bad CIDR", e(replace("studio.yaml", "managementVpcCidr: 10.0.0.0/16", "managementVpcCidr: 10.0.0.0/33")), []string{
		"productions/studio.yaml:9: managementVpcCidr: \"10.0.0.0/33\" is not an IPv4 CIDR such as 10.0.0.0/16",
	}},
	{"IPv6 CIDR", e(replace("harbour.yaml", "vpcCidr: 10.30.0.0/20", "vpcCidr: fd00:30::/48")), []string{
		"productions/harbour.yaml:6: vpcCidr: \"fd00:30::/48\" is not an IPv4 CIDR such as 10.0.0.0/16",
	}},
	{"CIDR without length", e(replace("studio.yaml", "cidrs: [192.168.0.0/16]", "cidrs: [192.168.0.0]")), []string{
		"productions/studio.yaml:11: onPremises.cidrs[0]: \"192.168.0.0\" is not an IPv4 CIDR such as 10.0.0.0/16",
	}},
	{"CIDR with host bits", e(replace("nightfall.yaml", "vpcCidr: 10.20.0.0/16", "vpcCidr: 10.20.0.1/16")), []string{
		"productions/nightfall.yaml:6: vpcCidr: \"10.20.0.1/16\" has host bits set: did you mean 10.20.0.0/16?",
	}},
	{"bad address", e(replace("studio.yaml", "customerGatewayIp: 203.0.113.10", "customerGatewayIp: 203.0.113")), []string{
		"productions/studio.yaml:13: onPremises.vpn.customerGatewayIp: \"203.0.113\" is not an IPv4 address",
	}},
	{"bad date", e(replace("nightfall.yaml", "startDate: 2026-01-05", "startDate: 2026-13-01")), []string{
		"productions/nightfall.yaml:9: startDate: \"2026-13-01\" is not a date of the form YYYY-MM-DD",
	}},
	{"date without leading zeros", e(replace("nightfall.yaml", "endDate: 2026-12-18", "endDate: 2026-12-8")), []string{
		"productions/nightfall.yaml:10: endDate: \"2026-12-8\" is not a date of the form YYYY-MM-DD",
	}},
	{"date with time", e(replace("nightfall.yaml", "endDate: 2026-12-18", "endDate: 2026-12-18T17:00:00Z")), []string{
		"productions/nightfall.yaml:10: endDate: \"2026-12-18T17:00:00Z\" is not a date of the form YYYY-MM-DD",
	}},
	{"top-level scalar", e(write("harbour.yaml", "harbour\n")), []string{
		"productions/harbour.yaml:1: expected a mapping of fields at the top level",
	}},
	{"duplicate field", e(replace("nightfall.yaml", "tier: 1\n", "tier: 1\nregion: us-west-2\ntier: 3\n")), []string{
		"productions/nightfall.yaml:5: tier: is set twice (first on line 3): set it once",
		"productions/nightfall.yaml:7: region: is set twice (first on line 4): set it once",
	}},
	{"duplicate profile", e(appendTo("nightfall.yaml", "renderProfiles:\n  cpu:\n    ami: ssm:/acme/render/ami\n")), []string{
		"productions/nightfall.yaml:25: renderProfiles: is set twice (first on line 17): set it once",
	}},
	{"duplicate profile name", e(replace("nightfall.yaml", "endpoints:", "  gpu:\n    ami: ssm:/acme/render/gpu-ami\nendpoints:")), []string{
		"productions/nightfall.yaml:24: renderProfiles.gpu: is set twice (first on line 18): set it once",
	}},
	{"list as a key", e(replace("brightside.yaml", "tier: 3\n", "tier: 3\n? [owner]\n: ads@example.com\n")), []string{
		"productions/brightside.yaml:4: has a key that is not plain text: keys are field names",
	}},
	{"merge key", e(replace("nightfall.yaml", "    ami: ssm:/acme/render/gpu-ami\n", "    <<: *cpu\n    ami: ssm:/acme/render/gpu-ami\n"), replace("nightfall.yaml", "render:\n", "render: &cpu\n")), []string{
		"productions/nightfall.yaml:19: renderProfiles.gpu.<<: unknown field (known fields: ami, instanceTypes, purchase, rootDeviceName, rootVolumeGiB, scratchVolumeGiB)",
	}},
	{"invalid YAML", e(replace("harbour.yaml", "tier: 2", "tier: 2: 3")), []string{
		"productions/harbour.yaml:3: invalid YAML: mapping values are not allowed in this context",
	}},
	{"tab indentation", e(replace("harbour.yaml", "  purchase: spot", "\tpurchase: spot")), []string{
		"productions/harbour.yaml:14: invalid YAML: found character that cannot start any token",
	}},
}

// studioCases break one rule of studio.yaml.
var studioCases = []ruleCase{
	{"studio name empty", e(replace("studio.yaml", "studio: acme", `studio: ""`)), []string{
		"productions/studio.yaml:2: studio: is required",
	}},
	{"studio name missing", e(replace("studio.yaml", "studio: acme\n", "")), []string{
		"productions/studio.yaml:2: studio: is required",
	}},
	{"studio name uppercase", e(replace("studio.yaml", "studio: acme", "studio: Acme")), []string{
		"productions/studio.yaml:2: studio: \"Acme\" must be DNS-safe: lower case letters, digits and hyphens, starting with a letter, at most 12 characters",
	}},
	{"studio name too long", e(replace("studio.yaml", "studio: acme", "studio: acme-pictures")), []string{
		"productions/studio.yaml:2: studio: \"acme-pictures\" must be DNS-safe: lower case letters, digits and hyphens, starting with a letter, at most 12 characters",
	}},
	{"studio name not DNS-safe", e(replace("studio.yaml", "studio: acme", "studio: acme_vfx")), []string{
		"productions/studio.yaml:2: studio: \"acme_vfx\" must be DNS-safe: lower case letters, digits and hyphens, starting with a letter, at most 12 characters",
	}},
	{"region invalid", e(replace("studio.yaml", "region: us-west-2\navail", "region: us-west-9\navail")), []string{
		"productions/studio.yaml:3: region: \"us-west-9\" is not an AWS region code such as us-west-2",
	}},
	{"region missing", e(replace("studio.yaml", "region: us-west-2\navail", "avail")), []string{
		"productions/studio.yaml:2: region: is required",
	}},
	{"zone not in region", e(replace("studio.yaml", "[us-west-2a, us-west-2b]", "[us-west-2a, us-east-1b]")), []string{
		"productions/studio.yaml:4: availabilityZones[1]: \"us-east-1b\" is not an availability zone of us-west-2",
	}},
	{"zone id not name", e(replace("studio.yaml", "[us-west-2a, us-west-2b]", "[usw2-az1, usw2-az2]")), []string{
		"productions/studio.yaml:4: availabilityZones[0]: \"usw2-az1\" is not an availability zone of us-west-2",
		"productions/studio.yaml:4: availabilityZones[1]: \"usw2-az2\" is not an availability zone of us-west-2",
	}},
	{"single zone", e(replace("studio.yaml", "[us-west-2a, us-west-2b]", "[us-west-2a]")), []string{
		"productions/studio.yaml:4: availabilityZones: list at least two availability zones, or none for the region default",
	}},
	{"duplicate zone", e(replace("studio.yaml", "[us-west-2a, us-west-2b]", "[us-west-2a, us-west-2a]")), []string{
		"productions/studio.yaml:4: availabilityZones[1]: \"us-west-2a\" is listed twice",
	}},
	{"management account missing", e(replace("studio.yaml", "managementAccount: \"111111111111\"\n", "")), []string{
		"productions/studio.yaml:2: managementAccount: is required",
	}},
	{"management account 11 digits", e(replace("studio.yaml", `managementAccount: "111111111111"`, `managementAccount: "11111111111"`)), []string{
		"productions/studio.yaml:5: managementAccount: \"11111111111\" is not a 12-digit AWS account id (quote it in YAML)",
	}},
	{"log archive account not digits", e(replace("studio.yaml", `logArchiveAccount: "222222222222"`, "logArchiveAccount: log-archive")), []string{
		"productions/studio.yaml:6: logArchiveAccount: \"log-archive\" is not a 12-digit AWS account id (quote it in YAML)",
	}},
	{"organization id bad", e(replace("studio.yaml", "organizationId: o-a1b2c3d4e5", "organizationId: o-ABC")), []string{
		"productions/studio.yaml:7: organizationId: \"o-ABC\" is not an AWS Organizations id such as o-a1b2c3d4e5",
	}},
	{"management VPC not RFC 1918", e(replace("studio.yaml", "managementVpcCidr: 10.0.0.0/16", "managementVpcCidr: 11.0.0.0/16")), []string{
		"productions/studio.yaml:9: managementVpcCidr: 11.0.0.0/16 is not inside an RFC 1918 range (10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16)",
	}},
	{"management VPC too small", e(replace("studio.yaml", "managementVpcCidr: 10.0.0.0/16", "managementVpcCidr: 10.0.0.0/24")), []string{
		"productions/studio.yaml:9: managementVpcCidr: 10.0.0.0/24 must be between /16 and /22",
	}},
	{"management VPC too big", e(replace("studio.yaml", "managementVpcCidr: 10.0.0.0/16", "managementVpcCidr: 10.0.0.0/12")), []string{
		"productions/studio.yaml:9: managementVpcCidr: 10.0.0.0/12 must be between /16 and /22",
	}},
	{"management VPC missing", e(replace("studio.yaml", "managementVpcCidr: 10.0.0.0/16\n", "")), []string{
		"productions/studio.yaml:2: managementVpcCidr: is required",
	}},
	{"on-premises cidrs missing", e(replace("studio.yaml", "  cidrs: [192.168.0.0/16]\n", "")), []string{
		"productions/studio.yaml:11: onPremises.cidrs: is required: list the on-premises ranges productions may reach",
	}},
	{"on-premises cidr null", e(replace("studio.yaml", "cidrs: [192.168.0.0/16]", "cidrs: [192.168.0.0/16, ~]")), []string{
		"productions/studio.yaml:11: onPremises.cidrs[1]: is required",
	}},
	{"dns zones refused", e(replace("studio.yaml", "  cidrs: [192.168.0.0/16]\n", "  dnsZones: [acme.internal, internal, \"*.acme.com\", acme.com., Acme.Internal, acme.internal, \"\"]\n  cidrs: [192.168.0.0/16]\n")), []string{
		"productions/studio.yaml:11: onPremises.dnsZones[1]: \"internal\" is a single label: it would let render nodes resolve every name of a top-level domain; name the studio's own zone, such as studio.internal",
		"productions/studio.yaml:11: onPremises.dnsZones[2]: \"*.acme.com\": write the zone without \"*.\": every name below it is allowed with it",
		"productions/studio.yaml:11: onPremises.dnsZones[3]: \"acme.com.\": write the zone without the trailing dot",
		"productions/studio.yaml:11: onPremises.dnsZones[4]: \"Acme.Internal\" is not a DNS name: lower-case letters, digits and hyphens in dot-separated labels of at most 63, at most 251 in all",
		"productions/studio.yaml:11: onPremises.dnsZones[5]: \"acme.internal\" repeats dnsZones[0]",
		"productions/studio.yaml:11: onPremises.dnsZones[6]: is required",
	}},
	{"dns zone label too long", e(replace("studio.yaml", "  cidrs: [192.168.0.0/16]\n", "  dnsZones: [\"a-"+strings.Repeat("b", 62)+".internal\"]\n  cidrs: [192.168.0.0/16]\n")), []string{
		"productions/studio.yaml:11: onPremises.dnsZones[0]: \"a-" + strings.Repeat("b", 62) + ".internal\" is not a DNS name: lower-case letters, digits and hyphens in dot-separated labels of at most 63, at most 251 in all",
	}},
	{"vpn gateway private", e(replace("studio.yaml", "customerGatewayIp: 203.0.113.10", "customerGatewayIp: 10.1.2.3")), []string{
		"productions/studio.yaml:13: onPremises.vpn.customerGatewayIp: 10.1.2.3 is not a public address: the customer gateway is reached over the internet",
	}},
	{"vpn gateway shared address space", e(replace("studio.yaml", "customerGatewayIp: 203.0.113.10", "customerGatewayIp: 100.64.0.10")), []string{
		"productions/studio.yaml:13: onPremises.vpn.customerGatewayIp: 100.64.0.10 is not a public address: the customer gateway is reached over the internet",
	}},
	{"vpn gateway missing", e(replace("studio.yaml", "    customerGatewayIp: 203.0.113.10\n", "")), []string{
		"productions/studio.yaml:13: onPremises.vpn.customerGatewayIp: is required",
	}},
	{"vpn bgp asn reserved", e(replace("studio.yaml", "bgpAsn: 65000", "bgpAsn: 7224")), []string{
		"productions/studio.yaml:14: onPremises.vpn.bgpAsn: 7224 is not a usable BGP ASN (1 to 4294967294, not one AWS reserves)",
	}},
	{"vpn bgp asn zero", e(replace("studio.yaml", "bgpAsn: 65000", "bgpAsn: 0")), []string{
		"productions/studio.yaml:14: onPremises.vpn.bgpAsn: 0 is not a usable BGP ASN (1 to 4294967294, not one AWS reserves)",
	}},
	{"vpn bgp asn too big", e(replace("studio.yaml", "bgpAsn: 65000", "bgpAsn: 4294967295")), []string{
		"productions/studio.yaml:14: onPremises.vpn.bgpAsn: 4294967295 is not a usable BGP ASN (1 to 4294967294, not one AWS reserves)",
	}},
	{"vpn bgp asn of the transit gateway", e(replace("studio.yaml", "bgpAsn: 65000", "bgpAsn: 64512")), []string{
		"productions/studio.yaml:14: onPremises.vpn.bgpAsn: 64512 is the Transit Gateway's own ASN (transitGatewayAsn): the BGP session needs two different ASNs",
	}},
	{"on-premises range public", e(replace("studio.yaml", "cidrs: [192.168.0.0/16]", "cidrs: [192.168.0.0/16, 198.18.0.0/15]")), []string{
		"productions/studio.yaml:11: onPremises.cidrs[1]: 198.18.0.0/15 is not inside an RFC 1918 range: on-premises ranges are reached privately over the Transit Gateway",
	}},
	{"admin cidrs private", e(replace("studio.yaml", "adminSourceCidrs: [198.51.100.0/24]", "adminSourceCidrs: [198.51.100.0/24, 10.1.0.0/16]")), []string{
		"productions/studio.yaml:16: adminSourceCidrs[1]: 10.1.0.0/16 is not a public range: the roles' aws:SourceIp condition sees the studio's public egress address, never a private one, so nobody could assume them",
	}},
	{"scheduler port ssh", e(replace("studio.yaml", "ports: [4433]", "ports: [4433, 22, 3389]")), []string{
		"productions/studio.yaml:25: scheduler.ports[1]: port 22 is SSH or RDP: render nodes reach the scheduler over TLS only, and people use Session Manager (ISE 4.1)",
		"productions/studio.yaml:25: scheduler.ports[2]: port 3389 is SSH or RDP: render nodes reach the scheduler over TLS only, and people use Session Manager (ISE 4.1)",
	}},
	{"vpn bgp asn missing", e(replace("studio.yaml", "    bgpAsn: 65000\n", "")), []string{
		"productions/studio.yaml:13: onPremises.vpn.bgpAsn: is required",
	}},
	{"transit gateway asn public", e(replace("studio.yaml", "transitGatewayAsn: 64512", "transitGatewayAsn: 16509")), []string{
		"productions/studio.yaml:15: transitGatewayAsn: 16509 is not a private ASN (64512 to 65534, or 4200000000 to 4294967294)",
	}},
	{"transit gateway asn just below range", e(replace("studio.yaml", "transitGatewayAsn: 64512", "transitGatewayAsn: 64511")), []string{
		"productions/studio.yaml:15: transitGatewayAsn: 64511 is not a private ASN (64512 to 65534, or 4200000000 to 4294967294)",
	}},
	{"transit gateway asn just above range", e(replace("studio.yaml", "transitGatewayAsn: 64512", "transitGatewayAsn: 65535")), []string{
		"productions/studio.yaml:15: transitGatewayAsn: 65535 is not a private ASN (64512 to 65534, or 4200000000 to 4294967294)",
	}},
	{"transit gateway asn missing", e(replace("studio.yaml", "transitGatewayAsn: 64512\n", "")), []string{
		"productions/studio.yaml:2: transitGatewayAsn: is required",
	}},
	{"transit gateway id bad", e(replace("studio.yaml", "transitGatewayAsn: 64512\n", "transitGatewayAsn: 64512\ntransitGatewayId: tgw-main\n")), []string{
		"productions/studio.yaml:16: transitGatewayId: \"tgw-main\" is not a Transit Gateway id such as tgw-0123456789abcdef0",
	}},
	{"admin cidrs empty", e(replace("studio.yaml", "adminSourceCidrs: [198.51.100.0/24]", "adminSourceCidrs: []")), []string{
		"productions/studio.yaml:16: adminSourceCidrs: is required: the ranges administrators work from (ISE 1.3)",
	}},
	{"admin cidrs missing", e(replace("studio.yaml", "adminSourceCidrs: [198.51.100.0/24]\n", "")), []string{
		"productions/studio.yaml:2: adminSourceCidrs: is required: the ranges administrators work from (ISE 1.3)",
	}},
	{"admin cidrs everything", e(replace("studio.yaml", "adminSourceCidrs: [198.51.100.0/24]", "adminSourceCidrs: [198.51.100.0/24, 0.0.0.0/0]")), []string{
		"productions/studio.yaml:16: adminSourceCidrs[1]: 0.0.0.0/0 is wider than /8: list the studio's egress ranges (ISE 1.3)",
	}},
	{"admin cidrs wider than a /8", e(replace("studio.yaml", "adminSourceCidrs: [198.51.100.0/24]", "adminSourceCidrs: [10.0.0.0/7]")), []string{
		"productions/studio.yaml:16: adminSourceCidrs[0]: 10.0.0.0/7 is wider than /8: list the studio's egress ranges (ISE 1.3)",
	}},
	{"organization management account malformed", e(replace("studio.yaml", `organizationManagementAccount: "999999999999"`, `organizationManagementAccount: "12345"`)), []string{
		"productions/studio.yaml:8: organizationManagementAccount: \"12345\" is not a 12-digit AWS account id (quote it in YAML)",
	}},
	{"organization management account without organization", e(replace("studio.yaml", "organizationId: o-a1b2c3d4e5\n", "")), []string{
		"productions/studio.yaml:7: organizationManagementAccount: is only meaningful with organizationId",
	}},
	{"organization management account omitted", e(replace("studio.yaml", "organizationManagementAccount: \"999999999999\"\n", "")), []string{
		"productions/studio.yaml:7: organizationId: needs organizationManagementAccount beside it: name the organization's management account, so that renderenv can keep the studio's hub, trail and productions out of it (no SCP applies there)",
	}},
	{"hub in the organization's management account", e(replace("studio.yaml", `organizationManagementAccount: "999999999999"`, `organizationManagementAccount: "111111111111"`)), []string{
		"productions/studio.yaml:5: managementAccount: 111111111111 is the organization's management account: SCPs do not apply to it, so every guardrail the studio sets in the organization would miss the hub that reaches every production; run the hub in a member account",
	}},
	{"trail in the organization's management account", e(replace("studio.yaml", `organizationManagementAccount: "999999999999"`, `organizationManagementAccount: "222222222222"`)), []string{
		"productions/studio.yaml:6: logArchiveAccount: 222222222222 is the organization's management account: SCPs do not apply to it, so nothing in the organization could stop its administrators altering the audit trail; keep the trail in a member account",
	}},
	{"people: a user, an account root, a wildcard, another account's role", e(appendTo("studio.yaml", "people:\n  keyAdmins: [\"arn:aws:iam::111111111111:user/alice\"]\n  dataOperators: [\"arn:aws:iam::111111111111:root\"]\n  logReaders: [\"arn:aws:iam::111111111111:role/logs-*\"]\n  auditors: [\"arn:aws:iam::333333333333:role/audit\"]\n")), []string{
		"productions/studio.yaml:33: people.keyAdmins[0]: \"arn:aws:iam::111111111111:user/alice\" is neither sso:<permission set> nor an IAM role ARN (arn:aws:iam::<account>:role/<name>); people are named exactly: no users, account roots or wildcards",
		"productions/studio.yaml:34: people.dataOperators[0]: \"arn:aws:iam::111111111111:root\" is neither sso:<permission set> nor an IAM role ARN (arn:aws:iam::<account>:role/<name>); people are named exactly: no users, account roots or wildcards",
		"productions/studio.yaml:35: people.logReaders[0]: \"arn:aws:iam::111111111111:role/logs-*\" is neither sso:<permission set> nor an IAM role ARN (arn:aws:iam::<account>:role/<name>); people are named exactly: no users, account roots or wildcards",
		"productions/studio.yaml:36: people.auditors[0]: \"arn:aws:iam::333333333333:role/audit\" is not a role of the management account 111111111111, where people sign in",
	}},
	{"people: an Identity Center role by ARN", e(appendTo("studio.yaml", "people:\n  auditors: [\"arn:aws:iam::111111111111:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_Audit_0123456789abcdef\"]\n")), []string{
		"productions/studio.yaml:33: people.auditors[0]: \"arn:aws:iam::111111111111:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_Audit_0123456789abcdef\" is an Identity Center role: write sso:<permission set> instead, which survives the role's reprovisioning",
	}},
	{"people: placeholders", e(appendTo("studio.yaml", "people:\n  keyAdmins: [\"sso:{prod}-Keys\"]\n  poolKeyAdmins: [\"sso:{production}-PoolKeys\"]\n")), []string{
		"productions/studio.yaml:33: people.keyAdmins[0]: \"sso:{prod}-Keys\": unknown placeholder {prod}; use {production} or {studio}",
		"productions/studio.yaml:34: people.poolKeyAdmins[0]: \"sso:{production}-PoolKeys\": {production} has no meaning here; this role serves the whole studio",
	}},
	{"people: empty, repeated and too many", e(appendTo("studio.yaml", "people:\n  keyAdmins: []\n  logReaders: [sso:A, sso:A]\n  auditors: [sso:A, sso:B, sso:C, sso:D, sso:E, sso:F]\n")), []string{
		"productions/studio.yaml:33: people.keyAdmins: is empty: name at least one principal, or leave the field out for the default",
		"productions/studio.yaml:34: people.logReaders[1]: \"sso:A\" is listed twice",
		"productions/studio.yaml:35: people.auditors: names 6 principals; at most 5 fit a role's trust policy: group people in fewer permission sets or roles",
	}},
	{"people: permission set names", e(appendTo("studio.yaml", "people:\n  auditors: [\"sso:Audit Team\", sso:ThisPermissionSetNameIsFarTooLong]\n")), []string{
		"productions/studio.yaml:33: people.auditors[0]: \"sso:Audit Team\": an Identity Center permission set name has letters, digits and +=,.@_- only",
		"productions/studio.yaml:33: people.auditors[1]: \"sso:ThisPermissionSetNameIsFarTooLong\": the permission set name is 33 characters; Identity Center allows at most 32: name a shorter one here",
	}},
	{"people: a studio pattern too long for a production", e(appendTo("studio.yaml", "people:\n  dataOperators: [\"sso:{production}-DataOperatorsGroupAll1\"]\n")), []string{
		"productions/brightside.yaml:2: people.dataOperators: is not set, and studio.yaml's people.dataOperators \"sso:{production}-DataOperatorsGroupAll1\" gives the permission set name \"brightside-DataOperatorsGroupAll1\", 33 characters; Identity Center allows at most 32: name this production's principals in people.dataOperators",
		"productions/lighthouse.yaml:2: people.dataOperators: is not set, and studio.yaml's people.dataOperators \"sso:{production}-DataOperatorsGroupAll1\" gives the permission set name \"lighthouse-DataOperatorsGroupAll1\", 33 characters; Identity Center allows at most 32: name this production's principals in people.dataOperators",
	}},
	{"license server private", e(replace("studio.yaml", "cidr: 203.0.113.50/32", "cidr: 10.9.9.9/32")), []string{
		"productions/studio.yaml:19: licenseServers[0].cidr: 10.9.9.9/32 is not a public range: license servers are the internet egress",
	}},
	{"license server too wide", e(replace("studio.yaml", "cidr: 203.0.113.50/32", "cidr: 203.0.0.0/16")), []string{
		"productions/studio.yaml:19: licenseServers[0].cidr: 203.0.0.0/16 is wider than /24: license egress is to named servers only",
	}},
	{"license server cidr missing", e(replace("studio.yaml", "    cidr: 203.0.113.50/32\n", "")), []string{
		"productions/studio.yaml:18: licenseServers[0].cidr: is required",
	}},
	{"license server port 0", e(replace("studio.yaml", "port: 1715", "port: 0")), []string{
		"productions/studio.yaml:20: licenseServers[0].port: 0 is not a port: use 1 to 65535",
	}},
	{"license server port 65536", e(replace("studio.yaml", "port: 1715", "port: 65536")), []string{
		"productions/studio.yaml:20: licenseServers[0].port: 65536 is not a port: use 1 to 65535",
	}},
	{"license server port missing", e(replace("studio.yaml", "    port: 1715\n", "")), []string{
		"productions/studio.yaml:18: licenseServers[0].port: is required",
	}},
	{"license server duplicate name", e(replace("studio.yaml", "name: nuke", "name: houdini")), []string{
		"productions/studio.yaml:21: licenseServers[1].name: \"houdini\" is listed twice",
	}},
	{"license server name missing", e(replace("studio.yaml", "  - name: nuke\n    cidr", "  - cidr")), []string{
		"productions/studio.yaml:21: licenseServers[1].name: is required",
	}},
	{"license server name uppercase", e(replace("studio.yaml", "name: nuke", "name: Nuke")), []string{
		"productions/studio.yaml:21: licenseServers[1].name: \"Nuke\" must be DNS-safe: lower case letters, digits and hyphens, starting with a letter, at most 32 characters",
	}},
	{"scheduler ports empty", e(replace("studio.yaml", "ports: [4433]", "ports: []")), []string{
		"productions/studio.yaml:25: scheduler.ports: is required: the TLS ports render nodes use to reach the scheduler",
	}},
	{"scheduler missing", e(replace("studio.yaml", "scheduler:\n  ports: [4433]\n", "")), []string{
		"productions/studio.yaml:2: scheduler.ports: is required: the TLS ports render nodes use to reach the scheduler",
	}},
	{"scheduler port duplicate", e(replace("studio.yaml", "ports: [4433]", "ports: [4433, 8443, 4433]")), []string{
		"productions/studio.yaml:25: scheduler.ports[2]: port 4433 is listed twice",
	}},
	{"scheduler port 70000", e(replace("studio.yaml", "ports: [4433]", "ports: [70000]")), []string{
		"productions/studio.yaml:25: scheduler.ports[0]: 70000 is not a port: use 1 to 65535",
	}},
	{"worker port SSH", e(replace("studio.yaml", "ports: [4433]\n", "ports: [4433]\n  workerPorts: [8080, 22]\n")), []string{
		"productions/studio.yaml:26: scheduler.workerPorts[1]: port 22 is SSH or RDP: render nodes are reached through Session Manager only (ISE 4.1)",
	}},
	{"launcher not a role", e(replace("studio.yaml", "ports: [4433]\n", "ports: [4433]\n  launchers: [arn:aws:iam::111111111111:user/alice]\n")), []string{
		"productions/studio.yaml:26: scheduler.launchers[0]: \"arn:aws:iam::111111111111:user/alice\" is not an IAM role ARN (arn:aws:iam::<account>:role/<name>)",
	}},
	{"launcher in another account", e(replace("studio.yaml", "ports: [4433]\n", "ports: [4433]\n  launchers: [arn:aws:iam::999999999999:role/scheduler]\n")), []string{
		"productions/studio.yaml:26: scheduler.launchers[0]: \"arn:aws:iam::999999999999:role/scheduler\" is not a role of the management account 111111111111, where the scheduler runs",
	}},
	{"deployer not a role", e(appendTo("studio.yaml", "deployers: [arn:aws:iam::111111111111:role/acme-deployer, arn:aws:iam::111111111111:user/bob]\n")), []string{
		"productions/studio.yaml:32: deployers[1]: \"arn:aws:iam::111111111111:user/bob\" is not an IAM role ARN (arn:aws:iam::<account>:role/<name>)",
	}},
	{"deployer in another account", e(appendTo("studio.yaml", "deployers: [arn:aws:iam::111111111111:role/acme-deployer, arn:aws:iam::333333333333:role/deployer]\n")), []string{
		"productions/studio.yaml:32: deployers[1]: \"arn:aws:iam::333333333333:role/deployer\" is not a role of the management account 111111111111, where deployments start",
	}},
	{"deployer twice", e(appendTo("studio.yaml", "deployers: [arn:aws:iam::111111111111:role/acme-deployer, arn:aws:iam::111111111111:role/acme-deployer]\n")), []string{
		"productions/studio.yaml:32: deployers[1]: \"arn:aws:iam::111111111111:role/acme-deployer\" is listed twice",
	}},
	{"worker port privileged", e(replace("studio.yaml", "ports: [4433]\n", "ports: [4433]\n  workerPorts: [443]\n")), []string{
		"productions/studio.yaml:26: scheduler.workerPorts[0]: port 443 is a privileged port: worker ports are 1024 to 65535",
	}},
	{"worker port RDP", e(replace("studio.yaml", "ports: [4433]\n", "ports: [4433]\n  workerPorts: [3389]\n")), []string{
		"productions/studio.yaml:26: scheduler.workerPorts[0]: port 3389 is SSH or RDP: render nodes are reached through Session Manager only (ISE 4.1)",
	}},
	{"worker port 0", e(replace("studio.yaml", "ports: [4433]\n", "ports: [4433]\n  workerPorts: [0]\n")), []string{
		"productions/studio.yaml:26: scheduler.workerPorts[0]: 0 is not a port: use 1 to 65535",
	}},
	{"pool declared twice", e(replace("studio.yaml", "alerts:", "  - account: \"555555555555\"\n    region: us-west-2\n    vpcCidr: 10.101.0.0/16\nalerts:")), []string{
		"productions/studio.yaml:30: pools[1]: a pool for account 555555555555 in us-west-2 is already declared",
	}},
	{"pool region not studio region", e(replace("studio.yaml", "    region: us-west-2\n", "    region: us-east-1\n")), []string{
		"productions/brightside.yaml:2: isolation.dedicatedVpc: tier 3 production without a dedicated VPC joins its account's pool, but studio.yaml declares no pool for account 555555555555 in us-west-2: add one to pools or set isolation.dedicatedVpc: true",
		"productions/studio.yaml:28: pools[0].region: must be the studio region us-west-2: the Transit Gateway is regional",
	}},
	{"pool region invalid", e(replace("studio.yaml", "    region: us-west-2\n", "    region: us-west\n")), []string{
		"productions/brightside.yaml:2: isolation.dedicatedVpc: tier 3 production without a dedicated VPC joins its account's pool, but studio.yaml declares no pool for account 555555555555 in us-west-2: add one to pools or set isolation.dedicatedVpc: true",
		"productions/studio.yaml:28: pools[0].region: \"us-west\" is not an AWS region code such as us-west-2",
	}},
	{"pool account bad", e(replace("studio.yaml", `  - account: "555555555555"`, `  - account: "5555"`)), []string{
		"productions/brightside.yaml:2: isolation.dedicatedVpc: tier 3 production without a dedicated VPC joins its account's pool, but studio.yaml declares no pool for account 555555555555 in us-west-2: add one to pools or set isolation.dedicatedVpc: true",
		"productions/studio.yaml:27: pools[0].account: \"5555\" is not a 12-digit AWS account id (quote it in YAML)",
	}},
	{"pool vpc too small", e(replace("studio.yaml", "vpcCidr: 10.100.0.0/16", "vpcCidr: 10.100.0.0/23")), []string{
		"productions/studio.yaml:29: pools[0].vpcCidr: 10.100.0.0/23 must be between /16 and /22",
	}},
	{"pool vpc not RFC 1918", e(replace("studio.yaml", "vpcCidr: 10.100.0.0/16", "vpcCidr: 100.100.0.0/16")), []string{
		"productions/studio.yaml:29: pools[0].vpcCidr: 100.100.0.0/16 is not inside an RFC 1918 range (10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16)",
	}},
	{"pool vpc missing", e(replace("studio.yaml", "    vpcCidr: 10.100.0.0/16\n", "")), []string{
		"productions/studio.yaml:27: pools[0].vpcCidr: is required",
	}},
	{"pool zones of another region", e(replace("studio.yaml", "    vpcCidr: 10.100.0.0/16\n", "    vpcCidr: 10.100.0.0/16\n    availabilityZones: [us-east-1a, us-east-1b]\n")), []string{
		"productions/studio.yaml:30: pools[0].availabilityZones[0]: \"us-east-1a\" is not an availability zone of us-west-2",
		"productions/studio.yaml:30: pools[0].availabilityZones[1]: \"us-east-1b\" is not an availability zone of us-west-2",
	}},
	{"pools not a list", e(replace("studio.yaml", "pools:\n  - account", "pools:\n  account"), replace("studio.yaml", "    region: us-west-2\n    vpcCidr", "  region: us-west-2\n  vpcCidr")), []string{
		"productions/studio.yaml:27: pools: must be a list",
	}},
	{"break-glass role given as an ARN", e(replace("studio.yaml", "studio: acme\n", "studio: acme\nbreakGlassRole: arn:aws:iam::111111111111:role/BreakGlass\n")), []string{
		"productions/studio.yaml:3: breakGlassRole: \"arn:aws:iam::111111111111:role/BreakGlass\" is not an IAM role name (letters, digits and +=,.@_-, at most 64): name the role, present in every account, not its ARN",
	}},
	{"trail retention too short", e(appendTo("studio.yaml", "audit:\n  trailRetentionDays: 30\n")), []string{
		"productions/studio.yaml:33: audit.trailRetentionDays: 30 days: lock the trail's log files for 90 to 3650 days; COMPLIANCE mode cannot be shortened once set, so choose with care",
	}},
	{"studio owner not an email", e(replace("studio.yaml", "studio: acme\n", "studio: acme\nowner: platform team\n")), []string{
		"productions/studio.yaml:3: owner: \"platform team\" is not an email address",
	}},
	{"alert email bad", e(replace("studio.yaml", "emails: [security@example.com]", "emails: [security@example.com, security]")), []string{
		"productions/studio.yaml:31: alerts.emails[1]: \"security\" is not an email address",
	}},
	{"pipeline connection bad", e(appendTo("studio.yaml", strings.Replace(pipeline, "arn:aws:codeconnections:us-west-2:111111111111:connection/0123abcd-0123-4567-89ab-0123456789ab", "my-github", 1))), []string{
		"productions/studio.yaml:34: pipeline.connectionArn: \"my-github\" is not a CodeConnections connection ARN such as arn:aws:codeconnections:us-west-2:111111111111:connection/0a1b2c3d-4e5f-6789-abcd-ef0123456789",
	}},
	{"pipeline repository bad", e(appendTo("studio.yaml", strings.Replace(pipeline, "acme/renderenv", "renderenv", 1))), []string{
		"productions/studio.yaml:35: pipeline.repository: \"renderenv\" is not a repository of the form owner/name",
	}},
	{"pipeline branch empty", e(appendTo("studio.yaml", strings.Replace(pipeline, "branch: main", `branch: ""`, 1))), []string{
		"productions/studio.yaml:36: pipeline.branch: is required when the pipeline is enabled",
	}},
	{"pipeline enabled with nothing", e(appendTo("studio.yaml", "pipeline:\n  enabled: true\n")), []string{
		"productions/studio.yaml:33: pipeline.branch: is required when the pipeline is enabled",
		"productions/studio.yaml:33: pipeline.connectionArn: \"\" is not a CodeConnections connection ARN such as arn:aws:codeconnections:us-west-2:111111111111:connection/0a1b2c3d-4e5f-6789-abcd-ef0123456789",
		"productions/studio.yaml:33: pipeline.repository: \"\" is not a repository of the form owner/name",
	}},
	{"pipeline approver of another account", e(appendTo("studio.yaml", pipeline+"  approvers: [sso:Release, arn:aws:iam::999999999999:role/Release]\n")), []string{
		"productions/studio.yaml:37: pipeline.approvers[1]: \"arn:aws:iam::999999999999:role/Release\" is not a role of the management account 111111111111, where people sign in",
	}},
	{"pipeline approvers wildcard, empty name, production placeholder", e(appendTo("studio.yaml", pipeline+"  approvers: [\"arn:aws:iam::111111111111:role/*\", \"sso:\", \"sso:{production}-Release\"]\n")), []string{
		"productions/studio.yaml:37: pipeline.approvers[0]: \"arn:aws:iam::111111111111:role/*\" is neither sso:<permission set> nor an IAM role ARN (arn:aws:iam::<account>:role/<name>); people are named exactly: no users, account roots or wildcards",
		"productions/studio.yaml:37: pipeline.approvers[1]: \"sso:\": an Identity Center permission set name has letters, digits and +=,.@_- only",
		"productions/studio.yaml:37: pipeline.approvers[2]: \"sso:{production}-Release\": {production} has no meaning here; this role serves the whole studio",
	}},
	{"pipeline approvers empty", e(appendTo("studio.yaml", pipeline+"  approvers: []\n")), []string{
		"productions/studio.yaml:37: pipeline.approvers: is empty: name at least one principal, or leave the field out for the default",
	}},
}

// productionCases break one rule of one production file.
var productionCases = []ruleCase{
	{"name does not match file", e(replace("nightfall.yaml", "name: nightfall", "name: nightfal")), []string{
		"productions/nightfall.yaml:2: name: \"nightfal\" does not match the file name nightfall.yaml",
	}},
	{"name missing", e(replace("nightfall.yaml", "name: nightfall\n", "")), []string{
		"productions/nightfall.yaml:2: name: is required",
	}},
	{"name uppercase", e(rename("nightfall.yaml", "Nightfall.yaml"), replace("Nightfall.yaml", "name: nightfall", "name: Nightfall")), []string{
		"productions/Nightfall.yaml:2: name: \"Nightfall\" must be DNS-safe: lower case letters, digits and hyphens, starting with a letter, at most 20 characters",
	}},
	{"name too long", e(rename("harbour.yaml", "harbour-second-season.yaml"), replace("harbour-second-season.yaml", "name: harbour", "name: harbour-second-season")), []string{
		"productions/harbour-second-season.yaml:2: name: \"harbour-second-season\" must be DNS-safe: lower case letters, digits and hyphens, starting with a letter, at most 20 characters",
	}},
	{
		"bucket name too long",
		// A 12-letter studio and an 18-letter production fit their own
		// limits, but not the asset bucket name in a 12-letter region.
		e(
			replaceAll("us-west-2", "eu-central-1"),
			replace("studio.yaml", "studio: acme", "studio: acmepictures"),
			rename("nightfall.yaml", "nightfall-directors.yaml"),
			replace("nightfall-directors.yaml", "name: nightfall", "name: nightfall-directors"),
		),
		[]string{
			"productions/nightfall-directors.yaml:2: name: too long: the asset bucket name acmepictures-nightfall-directors-assets-333333333333-eu-central-1 would exceed 63 characters",
		},
	},
	{"name reserved", e(rename("harbour.yaml", "network.yaml"), replace("network.yaml", "name: harbour", "name: network")), []string{
		"productions/network.yaml:2: name: \"network\" is reserved for the studio's shared stacks; choose another name",
	}},
	{"name with a reserved prefix", e(rename("harbour.yaml", "audit-vfx.yaml"), replace("audit-vfx.yaml", "name: harbour", "name: audit-vfx")), []string{
		"productions/audit-vfx.yaml:2: name: \"audit-vfx\" starts with \"audit-\", which is reserved for the studio's shared stacks and buckets; choose another name",
	}},
	{"name like a link stack", e(rename("harbour.yaml", "nightfall-link.yaml"), replace("nightfall-link.yaml", "name: harbour", "name: nightfall-link")), []string{
		"productions/nightfall-link.yaml:2: name: \"nightfall-link\" ends with \"-link\", which is reserved for the link stacks; choose another name",
	}},
	{"too many endpoints", e(replace("nightfall.yaml", "endpoints: [ecr.api, ecr.dkr]", "endpoints: [ecr.api, ecr.dkr, secretsmanager, elasticfilesystem, fsx, monitoring, sqs, sns, events, ec2, autoscaling, cloudformation, lambda, states, datasync, storagegateway, transfer, deadline.management, deadline.scheduling, athena, glue]")), []string{
		"productions/nightfall.yaml:24: endpoints: 21 endpoints; at most 20, so that the production stack stays well within CloudFormation's resource limit",
	}},
	{"too many render profiles", e(replace("brightside.yaml", "  rootVolumeGiB: 60", "  rootVolumeGiB: 60\nisolation:\n  dedicatedVpc: true\nvpcCidr: 10.50.0.0/22\nrenderProfiles:\n  p00:\n    ami: ssm:/acme/render/ami\n    instanceTypes: [c6i.8xlarge]\n    purchase: spot\n    rootVolumeGiB: 60\n  p01:\n    ami: ssm:/acme/render/ami\n    instanceTypes: [c6i.8xlarge]\n    purchase: spot\n    rootVolumeGiB: 60\n  p02:\n    ami: ssm:/acme/render/ami\n    instanceTypes: [c6i.8xlarge]\n    purchase: spot\n    rootVolumeGiB: 60\n  p03:\n    ami: ssm:/acme/render/ami\n    instanceTypes: [c6i.8xlarge]\n    purchase: spot\n    rootVolumeGiB: 60\n  p04:\n    ami: ssm:/acme/render/ami\n    instanceTypes: [c6i.8xlarge]\n    purchase: spot\n    rootVolumeGiB: 60\n  p05:\n    ami: ssm:/acme/render/ami\n    instanceTypes: [c6i.8xlarge]\n    purchase: spot\n    rootVolumeGiB: 60\n  p06:\n    ami: ssm:/acme/render/ami\n    instanceTypes: [c6i.8xlarge]\n    purchase: spot\n    rootVolumeGiB: 60\n  p07:\n    ami: ssm:/acme/render/ami\n    instanceTypes: [c6i.8xlarge]\n    purchase: spot\n    rootVolumeGiB: 60\n  p08:\n    ami: ssm:/acme/render/ami\n    instanceTypes: [c6i.8xlarge]\n    purchase: spot\n    rootVolumeGiB: 60\n  p09:\n    ami: ssm:/acme/render/ami\n    instanceTypes: [c6i.8xlarge]\n    purchase: spot\n    rootVolumeGiB: 60\n  p10:\n    ami: ssm:/acme/render/ami\n    instanceTypes: [c6i.8xlarge]\n    purchase: spot\n    rootVolumeGiB: 60")), []string{
		"productions/brightside.yaml:19: renderProfiles: 11 profiles; at most 10, so that the production stack stays well within CloudFormation's resource limit",
	}},
	{"pooled tier 3 with endpoints", e(replace("brightside.yaml", "costCentre:", "endpoints: [ecr.api]\ncostCentre:")), []string{
		"productions/brightside.yaml:6: endpoints: a pooled production uses the endpoints of its pool's VPC; remove endpoints or set isolation.dedicatedVpc: true",
	}},
	{"tier 4", e(replace("nightfall.yaml", "tier: 1", "tier: 4")), []string{
		"productions/nightfall.yaml:3: tier: 4 is not a tier: use 1, 2 or 3",
	}},
	{"tier 0", e(replace("nightfall.yaml", "tier: 1", "tier: 0")), []string{
		"productions/nightfall.yaml:3: tier: 0 is not a tier: use 1, 2 or 3",
	}},
	{"tier missing", e(replace("harbour.yaml", "tier: 2\n", "")), []string{
		"productions/harbour.yaml:2: tier: is required: use 1, 2 or 3",
	}},
	{"account missing", e(replace("harbour.yaml", "account: \"444444444444\"\n", "")), []string{
		"productions/harbour.yaml:2: account: is required",
	}},
	{"account too short", e(replace("harbour.yaml", `account: "444444444444"`, `account: "44444444444"`)), []string{
		"productions/harbour.yaml:4: account: \"44444444444\" is not a 12-digit AWS account id (quote it in YAML)",
	}},
	{"account with dashes", e(replace("harbour.yaml", `account: "444444444444"`, "account: 4444-4444-4444")), []string{
		"productions/harbour.yaml:4: account: \"4444-4444-4444\" is not a 12-digit AWS account id (quote it in YAML)",
	}},
	{"region invalid", e(replace("harbour.yaml", "region: us-west-2", "region: us-west-9")), []string{
		"productions/harbour.yaml:5: region: \"us-west-9\" is not an AWS region code such as us-west-2",
	}},
	{"region not studio region", e(replace("harbour.yaml", "region: us-west-2", "region: us-east-1")), []string{
		"productions/harbour.yaml:5: region: must be the studio region us-west-2: the Transit Gateway that links productions to management is regional",
	}},
	{"region missing", e(replace("harbour.yaml", "region: us-west-2\n", "")), []string{
		"productions/harbour.yaml:2: region: is required",
	}},
	{"zones of another region", e(replace("harbour.yaml", "vpcCidr:", "availabilityZones: [us-east-1a, us-east-1b]\nvpcCidr:")), []string{
		"productions/harbour.yaml:6: availabilityZones[0]: \"us-east-1a\" is not an availability zone of us-west-2",
		"productions/harbour.yaml:6: availabilityZones[1]: \"us-east-1b\" is not an availability zone of us-west-2",
	}},
	{"single zone", e(replace("harbour.yaml", "vpcCidr:", "availabilityZones: [us-west-2c]\nvpcCidr:")), []string{
		"productions/harbour.yaml:6: availabilityZones: list at least two availability zones, or none for the region default",
	}},
	{"cost centre empty", e(replace("harbour.yaml", "costCentre: CC-2040", "costCentre: \"\"")), []string{
		"productions/harbour.yaml:7: costCentre: is required: it tags every resource (ISE 1.2)",
	}},
	{"cost centre missing", e(replace("harbour.yaml", "costCentre: CC-2040\n", "")), []string{
		"productions/harbour.yaml:2: costCentre: is required: it tags every resource (ISE 1.2)",
	}},
	{"owner not email", e(replace("harbour.yaml", "owner: harbour-leads@example.com", "owner: harbour-leads")), []string{
		"productions/harbour.yaml:8: owner: \"harbour-leads\" is not an email address",
	}},
	{"owner missing", e(replace("harbour.yaml", "owner: harbour-leads@example.com\n", "")), []string{
		"productions/harbour.yaml:2: owner: \"\" is not an email address",
	}},
	{"start date missing", e(replace("harbour.yaml", "startDate: 2026-03-01\n", "")), []string{
		"productions/harbour.yaml:2: startDate: is required",
	}},
	{"end date missing", e(replace("harbour.yaml", "endDate: 2027-02-28\n", "")), []string{
		"productions/harbour.yaml:2: endDate: is required",
	}},
	{"both dates missing", e(replace("harbour.yaml", "startDate: 2026-03-01\nendDate: 2027-02-28\n", "")), []string{
		"productions/harbour.yaml:2: endDate: is required",
		"productions/harbour.yaml:2: startDate: is required",
	}},
	{"end before start", e(replace("harbour.yaml", "endDate: 2027-02-28", "endDate: 2026-02-28")), []string{
		"productions/harbour.yaml:10: endDate: 2026-02-28 is not after startDate 2026-03-01",
	}},
	{"end equals start", e(replace("harbour.yaml", "endDate: 2027-02-28", "endDate: 2026-03-01")), []string{
		"productions/harbour.yaml:10: endDate: 2026-03-01 is not after startDate 2026-03-01",
	}},
	{"end not a date", e(replace("harbour.yaml", "endDate: 2027-02-28", "endDate: 2027-02-29")), []string{
		"productions/harbour.yaml:10: endDate: \"2027-02-29\" is not a date of the form YYYY-MM-DD",
	}},
	{"render missing", e(replace("brightside.yaml", "render:\n  ami: ssm:/acme/render/ami\n  instanceTypes: [c6i.8xlarge]\n  purchase: on-demand\n  rootVolumeGiB: 60\n", "")), []string{
		"productions/brightside.yaml:2: render: is required: describe at least one render profile",
	}},
	{"render ami missing", e(replace("brightside.yaml", "  ami: ssm:/acme/render/ami\n", "")), []string{
		"productions/brightside.yaml:11: render.ami: is required: an SSM parameter (ssm:/path) or an AMI id (ami-...)",
	}},
	{"render ami short id", e(replace("harbour.yaml", "ami: ami-0123456789abcdef0", "ami: ami-0123")), []string{
		"productions/harbour.yaml:12: render.ami: \"ami-0123\" is neither an SSM parameter name (ssm:/path) nor an AMI id (ami- and 8 or 17 hex digits)",
	}},
	{"render ami ssm without path", e(replace("brightside.yaml", "ami: ssm:/acme/render/ami", "ami: ssm:acme-render-ami")), []string{
		"productions/brightside.yaml:11: render.ami: \"ssm:acme-render-ami\" is neither an SSM parameter name (ssm:/path) nor an AMI id (ami- and 8 or 17 hex digits)",
	}},
	{"render ami name", e(replace("brightside.yaml", "ami: ssm:/acme/render/ami", "ami: amzn2-ami-hvm")), []string{
		"productions/brightside.yaml:11: render.ami: \"amzn2-ami-hvm\" is neither an SSM parameter name (ssm:/path) nor an AMI id (ami- and 8 or 17 hex digits)",
	}},
	{"instance types empty", e(replace("brightside.yaml", "instanceTypes: [c6i.8xlarge]", "instanceTypes: []")), []string{
		"productions/brightside.yaml:12: render.instanceTypes: is required: at least one instance type",
	}},
	{"instance types missing", e(replace("brightside.yaml", "  instanceTypes: [c6i.8xlarge]\n", "")), []string{
		"productions/brightside.yaml:11: render.instanceTypes: is required: at least one instance type",
	}},
	{"instance type bad", e(replace("brightside.yaml", "instanceTypes: [c6i.8xlarge]", "instanceTypes: [c6i.8xlarge, C6I.8XLARGE, c6i]")), []string{
		"productions/brightside.yaml:12: render.instanceTypes[1]: \"C6I.8XLARGE\" is not an instance type of the form family.size",
		"productions/brightside.yaml:12: render.instanceTypes[2]: \"c6i\" is not an instance type of the form family.size",
	}},
	{"instance type duplicate", e(replace("brightside.yaml", "instanceTypes: [c6i.8xlarge]", "instanceTypes: [c6i.8xlarge, c6i.8xlarge]")), []string{
		"productions/brightside.yaml:12: render.instanceTypes[1]: \"c6i.8xlarge\" is listed twice",
	}},
	{"root device bad", e(replace("brightside.yaml", "  rootVolumeGiB: 60", "  rootVolumeGiB: 60\n  rootDeviceName: /dev/hda")), []string{
		"productions/brightside.yaml:15: render.rootDeviceName: \"/dev/hda\" is not a root device name such as /dev/xvda (Amazon Linux) or /dev/sda1 (Ubuntu, RHEL, Rocky, Windows)",
	}},
	{"root device on the scratch device", e(replace("brightside.yaml", "  rootVolumeGiB: 60", "  rootVolumeGiB: 60\n  rootDeviceName: /dev/sdb")), []string{
		"productions/brightside.yaml:15: render.rootDeviceName: \"/dev/sdb\" is where the scratch volume is attached; use the AMI's root device",
	}},
	{"purchase bad", e(replace("brightside.yaml", "purchase: on-demand", "purchase: reserved")), []string{
		"productions/brightside.yaml:13: render.purchase: \"reserved\" is not a purchase option: use spot or on-demand",
	}},
	{"purchase missing", e(replace("brightside.yaml", "  purchase: on-demand\n", "")), []string{
		"productions/brightside.yaml:11: render.purchase: \"\" is not a purchase option: use spot or on-demand",
	}},
	{"root volume 10", e(replace("harbour.yaml", "rootVolumeGiB: 80", "rootVolumeGiB: 10")), []string{
		"productions/harbour.yaml:15: render.rootVolumeGiB: must be between 20 and 16384",
	}},
	{"root volume missing", e(replace("harbour.yaml", "  rootVolumeGiB: 80\n", "")), []string{
		"productions/harbour.yaml:12: render.rootVolumeGiB: must be between 20 and 16384",
	}},
	{"scratch volume 20000", e(replace("harbour.yaml", "scratchVolumeGiB: 250", "scratchVolumeGiB: 20000")), []string{
		"productions/harbour.yaml:16: render.scratchVolumeGiB: must be between 1 and 16384, or omitted for no scratch volume",
	}},
	{"scratch volume negative", e(replace("harbour.yaml", "scratchVolumeGiB: 250", "scratchVolumeGiB: -1")), []string{
		"productions/harbour.yaml:16: render.scratchVolumeGiB: must be between 1 and 16384, or omitted for no scratch volume",
	}},
	{"profile named default", e(replace("nightfall.yaml", "  gpu:\n", "  default:\n")), []string{
		"productions/nightfall.yaml:19: renderProfiles.default: \"default\" is the name of the render block; choose another",
	}},
	{"profile name uppercase", e(replace("nightfall.yaml", "  gpu:\n", "  GPU:\n")), []string{
		"productions/nightfall.yaml:19: renderProfiles.GPU: profile name \"GPU\" must be lower case letters, digits and hyphens, at most 20",
	}},
	{"profile name too long", e(replace("nightfall.yaml", "  gpu:\n", "  gpu-a10g-twelve-xlarge:\n")), []string{
		"productions/nightfall.yaml:19: renderProfiles.gpu-a10g-twelve-xlarge: profile name \"gpu-a10g-twelve-xlarge\" must be lower case letters, digits and hyphens, at most 20",
	}},
	{"profile field bad", e(replace("nightfall.yaml", "    purchase: on-demand\n", "    purchase: dedicated\n")), []string{
		"productions/nightfall.yaml:21: renderProfiles.gpu.purchase: \"dedicated\" is not a purchase option: use spot or on-demand",
	}},
	{"endpoint made up", e(replace("nightfall.yaml", "[ecr.api, ecr.dkr]", "[ecr.api, svc0]")), []string{
		"productions/nightfall.yaml:24: endpoints[1]: \"svc0\" is not an AWS service with an interface endpoint, such as ecr.api, secretsmanager or elasticfilesystem",
	}},
	{"endpoint bad", e(replace("nightfall.yaml", "[ecr.api, ecr.dkr]", "[ecr.api, ECR DKR]")), []string{
		"productions/nightfall.yaml:24: endpoints[1]: \"ECR DKR\" is not an AWS service with an interface endpoint, such as ecr.api, secretsmanager or elasticfilesystem",
	}},
	{"endpoint duplicate", e(replace("nightfall.yaml", "[ecr.api, ecr.dkr]", "[ecr.api, ecr.dkr, ecr.api]")), []string{
		"productions/nightfall.yaml:24: endpoints[2]: \"ecr.api\" is listed twice",
	}},
	{"endpoint s3", e(replace("nightfall.yaml", "[ecr.api, ecr.dkr]", "[ecr.api, s3]")), []string{
		"productions/nightfall.yaml:24: endpoints[1]: s3 is always a gateway endpoint; do not list it",
	}},
	{"endpoint built in", e(replace("nightfall.yaml", "[ecr.api, ecr.dkr]", "[ecr.api, kms]")), []string{
		"productions/nightfall.yaml:24: endpoints[1]: \"kms\" is already present (built in: ec2messages, kms, logs, ssm, ssmmessages, sts)",
	}},
}

// tierCases break the tier policy and the rules that span files.
var tierCases = []ruleCase{
	{"tier 1 dedicated VPC off", e(appendTo("nightfall.yaml", "isolation:\n  dedicatedVpc: false\n")), []string{
		"productions/nightfall.yaml:26: isolation.dedicatedVpc: tier 1 requires it: a manifest may ask for more isolation than its tier, never less",
	}},
	{"tier 1 dedicated account off", e(appendTo("nightfall.yaml", "isolation:\n  dedicatedAccount: false\n")), []string{
		"productions/nightfall.yaml:26: isolation.dedicatedAccount: tier 1 requires it: a manifest may ask for more isolation than its tier, never less",
	}},
	{"tier 1 dedicated keys off", e(appendTo("nightfall.yaml", "isolation:\n  dedicatedKeys: false\n")), []string{
		"productions/nightfall.yaml:26: isolation.dedicatedKeys: tier 1 requires it: a manifest may ask for more isolation than its tier, never less",
	}},
	{"tier 1 everything off", e(appendTo("nightfall.yaml", "isolation:\n  dedicatedAccount: false\n  dedicatedVpc: false\n  dedicatedKeys: false\n")), []string{
		"productions/nightfall.yaml:26: isolation.dedicatedAccount: tier 1 requires it: a manifest may ask for more isolation than its tier, never less",
		"productions/nightfall.yaml:27: isolation.dedicatedVpc: tier 1 requires it: a manifest may ask for more isolation than its tier, never less",
		"productions/nightfall.yaml:28: isolation.dedicatedKeys: tier 1 requires it: a manifest may ask for more isolation than its tier, never less",
	}},
	{"tier 2 dedicated VPC off", e(appendTo("harbour.yaml", "isolation:\n  dedicatedVpc: false\n")), []string{
		"productions/harbour.yaml:18: isolation.dedicatedVpc: tier 2 requires it: a manifest may ask for more isolation than its tier, never less",
	}},
	{"tier 1 S3 data events off", e(appendTo("nightfall.yaml", "audit:\n  s3DataEvents: false\n")), []string{
		"productions/nightfall.yaml:26: audit.s3DataEvents: tier 1 requires S3 data events in the trail (ISE 5.3)",
	}},
	{"tier 2 S3 data events off", e(appendTo("harbour.yaml", "audit:\n  s3DataEvents: false\n")), []string{
		"productions/harbour.yaml:18: audit.s3DataEvents: tier 2 requires S3 data events in the trail (ISE 5.3)",
	}},
	{"tier 1 in the management account", e(replace("nightfall.yaml", `account: "333333333333"`, `account: "111111111111"`)), []string{
		"productions/nightfall.yaml:4: account: 111111111111 is the management account, which holds the studio's network hub: productions run in accounts of their own (ISE 1.1)",
	}},
	{"tier 3 in the organization's management account", e(replace("lighthouse.yaml", `account: "555555555555"`, `account: "999999999999"`)), []string{
		"productions/lighthouse.yaml:4: account: 999999999999 is the organization's management account, where no SCP applies: productions run in member accounts (ISE 1.1)",
	}},
	{"pool in the organization's management account", e(replace("studio.yaml", `  - account: "555555555555"`, `  - account: "999999999999"`)), []string{
		"productions/brightside.yaml:2: isolation.dedicatedVpc: tier 3 production without a dedicated VPC joins its account's pool, but studio.yaml declares no pool for account 555555555555 in us-west-2: add one to pools or set isolation.dedicatedVpc: true",
		"productions/studio.yaml:27: pools[0].account: 999999999999 holds the studio's hub or audit trail, or is the organization's management account: pools run in production accounts",
	}},
	{"retired range reused without saying so", e(appendTo("studio.yaml", "retired:\n  - name: oldshow\n    account: \"666666666666\"\n    vpcCidr: 10.20.0.0/16\n    closed: 2026-06-30\n")), []string{
		"productions/nightfall.yaml:6: vpcCidr: 10.20.0.0/16 overlaps 10.20.0.0/16, the range of oldshow, retired on 2026-06-30 (productions/studio.yaml retired[0].vpcCidr): a retired production's stacks may still hold it, so it is reused only on purpose; once they are deleted, set reusesRangeOf: oldshow",
	}},
	{"retired name given again", e(appendTo("studio.yaml", "retired:\n  - name: oldshow\n    account: \"666666666666\"\n    vpcCidr: 10.250.0.0/16\n    closed: 2026-06-30\n"), replace("nightfall.yaml", "vpcCidr: 10.20.0.0/16", "vpcCidr: 10.21.0.0/16"), replace("harbour.yaml", "name: harbour", "name: oldshow")), []string{
		"productions/harbour.yaml:2: name: \"oldshow\" does not match the file name harbour.yaml",
		"productions/harbour.yaml:2: name: \"oldshow\" was retired on 2026-06-30 (studio.yaml retired[0]): its stacks, roles and buckets may still exist, so the name is never given again; choose another",
	}},
	{"reusesRangeOf names no retired production, or one whose range it does not overlap", e(appendTo("studio.yaml", "retired:\n  - name: oldshow\n    account: \"666666666666\"\n    vpcCidr: 10.250.0.0/16\n    closed: 2026-06-30\n"), appendTo("nightfall.yaml", "reusesRangeOf: oldshow\n"), appendTo("harbour.yaml", "reusesRangeOf: newshow\n")), []string{
		"productions/harbour.yaml:17: reusesRangeOf: \"newshow\" is not a retired production of studio.yaml",
		"productions/nightfall.yaml:25: reusesRangeOf: oldshow's range 10.250.0.0/16 does not overlap vpcCidr 10.20.0.0/16: remove the field",
	}},
	{"retired entries incomplete and repeated", e(appendTo("studio.yaml", "retired:\n  - name: oldshow\n    account: \"66\"\n  - name: oldshow\n    account: \"666666666666\"\n    vpcCidr: 10.250.0.0/16\n    closed: 2026-06-30\n")), []string{
		"productions/studio.yaml:33: retired[0].closed: is required: the day the production was closed",
		"productions/studio.yaml:34: retired[0].account: \"66\" is not a 12-digit AWS account id (quote it in YAML)",
		"productions/studio.yaml:35: retired[1].name: \"oldshow\" is listed twice",
	}},
	{"status not a life-cycle state", e(appendTo("harbour.yaml", "status: retired\n"), appendTo("nightfall.yaml", "status: Closing\n")), []string{
		"productions/harbour.yaml:17: status: \"retired\" is not a life-cycle state: use active, closing or closed",
		"productions/nightfall.yaml:25: status: \"Closing\" is not a life-cycle state: use active, closing or closed",
	}},
	{"tier 2 in the management account", e(replace("harbour.yaml", `account: "444444444444"`, `account: "111111111111"`)), []string{
		"productions/harbour.yaml:4: account: 111111111111 is the management account, which holds the studio's network hub: productions run in accounts of their own (ISE 1.1)",
	}},
	{"pool in the log-archive account", e(replace("studio.yaml", `  - account: "555555555555"`, `  - account: "222222222222"`)), []string{
		"productions/brightside.yaml:2: isolation.dedicatedVpc: tier 3 production without a dedicated VPC joins its account's pool, but studio.yaml declares no pool for account 555555555555 in us-west-2: add one to pools or set isolation.dedicatedVpc: true",
		"productions/studio.yaml:27: pools[0].account: 222222222222 holds the studio's hub or audit trail, or is the organization's management account: pools run in production accounts",
	}},
	{"tier 1 in the log-archive account", e(replace("nightfall.yaml", `account: "333333333333"`, `account: "222222222222"`)), []string{
		"productions/nightfall.yaml:4: account: 222222222222 is the log-archive account, which holds the studio's audit trail: productions run in accounts of their own (ISE 1.1)",
	}},
	{"tier 1 in the management account that is the log archive", e(replace("studio.yaml", "logArchiveAccount: \"222222222222\"\n", ""), replace("nightfall.yaml", `account: "333333333333"`, `account: "111111111111"`)), []string{
		"productions/nightfall.yaml:4: account: 111111111111 is the management account, which holds the studio's network hub: productions run in accounts of their own (ISE 1.1)",
	}},
	{"tier 1 sharing with a tier 2", e(replace("nightfall.yaml", `account: "333333333333"`, `account: "444444444444"`)), []string{
		"productions/nightfall.yaml:4: account: 444444444444 is also used by productions/harbour.yaml: a dedicated account holds one production only",
	}},
	{"tier 1 sharing with a tier 3 pool account", e(replace("nightfall.yaml", `account: "333333333333"`, `account: "555555555555"`)), []string{
		"productions/nightfall.yaml:4: account: 555555555555 is also used by productions/brightside.yaml, productions/lighthouse.yaml: a dedicated account holds one production only",
	}},
	{"two tier 1 sharing an account", e(replace("harbour.yaml", "tier: 2", "tier: 1"), replace("harbour.yaml", `account: "444444444444"`, `account: "333333333333"`)), []string{
		"productions/harbour.yaml:4: account: 333333333333 is also used by productions/nightfall.yaml: a dedicated account holds one production only",
		"productions/nightfall.yaml:4: account: 333333333333 is also used by productions/harbour.yaml: a dedicated account holds one production only",
	}},
	{"tier 3 asking for a dedicated account it shares", e(replace("lighthouse.yaml", "isolation:\n", "isolation:\n  dedicatedAccount: true\n")), []string{
		"productions/lighthouse.yaml:4: account: 555555555555 is also used by productions/brightside.yaml: a dedicated account holds one production only",
	}},
	{"production overlaps production", e(replace("harbour.yaml", "vpcCidr: 10.30.0.0/20", "vpcCidr: 10.20.16.0/20")), []string{
		"productions/harbour.yaml:6: vpcCidr: 10.20.16.0/20 overlaps 10.20.0.0/16 (productions/nightfall.yaml vpcCidr)",
	}},
	{"production contains production", e(replace("lighthouse.yaml", "vpcCidr: 10.40.0.0/22", "vpcCidr: 10.30.0.0/16")), []string{
		"productions/lighthouse.yaml:6: vpcCidr: 10.30.0.0/16 overlaps 10.30.0.0/20 (productions/harbour.yaml vpcCidr)",
	}},
	{"production overlaps management", e(replace("harbour.yaml", "vpcCidr: 10.30.0.0/20", "vpcCidr: 10.0.16.0/20")), []string{
		"productions/harbour.yaml:6: vpcCidr: 10.0.16.0/20 overlaps 10.0.0.0/16 (productions/studio.yaml managementVpcCidr)",
	}},
	{"production overlaps on-premises", e(replace("harbour.yaml", "vpcCidr: 10.30.0.0/20", "vpcCidr: 192.168.16.0/20")), []string{
		"productions/harbour.yaml:6: vpcCidr: 192.168.16.0/20 overlaps 192.168.0.0/16 (productions/studio.yaml onPremises.cidrs[0])",
	}},
	{"production overlaps pool", e(replace("harbour.yaml", "vpcCidr: 10.30.0.0/20", "vpcCidr: 10.100.0.0/20")), []string{
		"productions/harbour.yaml:6: vpcCidr: 10.100.0.0/20 overlaps 10.100.0.0/16 (productions/studio.yaml pools[0].vpcCidr)",
	}},
	{"pool overlaps production", e(replace("studio.yaml", "vpcCidr: 10.100.0.0/16", "vpcCidr: 10.40.0.0/16")), []string{
		"productions/lighthouse.yaml:6: vpcCidr: 10.40.0.0/22 overlaps 10.40.0.0/16 (productions/studio.yaml pools[0].vpcCidr)",
	}},
	{"on-premises overlaps management", e(replace("studio.yaml", "cidrs: [192.168.0.0/16]", "cidrs: [192.168.0.0/16, 10.0.128.0/24]")), []string{
		"productions/studio.yaml:11: onPremises.cidrs[1]: 10.0.128.0/24 overlaps 10.0.0.0/16 (productions/studio.yaml managementVpcCidr)",
	}},
	{"pooled tier 3 without pools", e(replace("studio.yaml", "pools:\n  - account: \"555555555555\"\n    region: us-west-2\n    vpcCidr: 10.100.0.0/16\n", "")), []string{
		"productions/brightside.yaml:2: isolation.dedicatedVpc: tier 3 production without a dedicated VPC joins its account's pool, but studio.yaml declares no pool for account 555555555555 in us-west-2: add one to pools or set isolation.dedicatedVpc: true",
	}},
	{"pooled tier 3 in an account without a pool", e(replace("brightside.yaml", `account: "555555555555"`, `account: "666666666666"`)), []string{
		"productions/brightside.yaml:2: isolation.dedicatedVpc: tier 3 production without a dedicated VPC joins its account's pool, but studio.yaml declares no pool for account 666666666666 in us-west-2: add one to pools or set isolation.dedicatedVpc: true",
	}},
	{"pooled tier 3 with a bad account", e(replace("brightside.yaml", `account: "555555555555"`, `account: "5555"`)), []string{
		"productions/brightside.yaml:4: account: \"5555\" is not a 12-digit AWS account id (quote it in YAML)",
	}},
	{"pooled tier 3 with vpcCidr", e(replace("brightside.yaml", "costCentre:", "vpcCidr: 10.50.0.0/22\ncostCentre:")), []string{
		"productions/brightside.yaml:6: vpcCidr: a tier 3 production has a VPC of its own only with isolation.dedicatedVpc: true; set it to keep this VPC, or remove vpcCidr to join the pool of account 555555555555",
	}},
	{"tier 3 with vpcCidr in an account without a pool", e(replace("lighthouse.yaml", "  dedicatedVpc: true\n", ""), replace("lighthouse.yaml", `account: "555555555555"`, `account: "666666666666"`)), []string{
		"productions/lighthouse.yaml:6: vpcCidr: a tier 3 production has a VPC of its own only with isolation.dedicatedVpc: true; set it to keep this VPC, or remove vpcCidr and add a pool for account 666666666666 in us-west-2 to studio.yaml pools",
	}},
	{"tier 1 without vpcCidr", e(replace("nightfall.yaml", "vpcCidr: 10.20.0.0/16\n", "")), []string{
		"productions/nightfall.yaml:2: vpcCidr: is required: the production has a VPC of its own",
	}},
	{"tier 2 without vpcCidr", e(replace("harbour.yaml", "vpcCidr: 10.30.0.0/20\n", "")), []string{
		"productions/harbour.yaml:2: vpcCidr: is required: the production has a VPC of its own",
	}},
	{"tier 3 dedicated VPC without vpcCidr", e(replace("lighthouse.yaml", "vpcCidr: 10.40.0.0/22\n", "")), []string{
		"productions/lighthouse.yaml:2: vpcCidr: is required: the production has a VPC of its own",
	}},
	{"production vpcCidr /24", e(replace("nightfall.yaml", "vpcCidr: 10.20.0.0/16", "vpcCidr: 10.20.0.0/24")), []string{
		"productions/nightfall.yaml:6: vpcCidr: 10.20.0.0/24 must be between /16 and /22",
	}},
	{"production vpcCidr /12", e(replace("nightfall.yaml", "vpcCidr: 10.20.0.0/16", "vpcCidr: 172.16.0.0/12")), []string{
		"productions/nightfall.yaml:6: vpcCidr: 172.16.0.0/12 must be between /16 and /22",
	}},
	{"production vpcCidr public", e(replace("nightfall.yaml", "vpcCidr: 10.20.0.0/16", "vpcCidr: 20.20.0.0/16")), []string{
		"productions/nightfall.yaml:6: vpcCidr: 20.20.0.0/16 is not inside an RFC 1918 range (10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16)",
	}},
	{"duplicate name via .yml", e(copyFile("harbour.yaml", "harbour.yml")), []string{
		"productions/harbour.yml:2: name: \"harbour\" is already the name of productions/harbour.yaml",
		"productions/harbour.yml:6: vpcCidr: 10.30.0.0/20 overlaps 10.30.0.0/20 (productions/harbour.yaml vpcCidr)",
	}},
}

func runRuleCases(t *testing.T, cases []ruleCase) {
	t.Helper()
	seen := map[string]bool{}
	for _, tc := range cases {
		if seen[tc.name] {
			t.Fatalf("case %q is listed twice", tc.name)
		}
		seen[tc.name] = true
		t.Run(tc.name, func(t *testing.T) {
			if len(tc.want) == 0 {
				t.Error("an invalid case must want at least one error")
			}
			assertErrors(t, load(t, edited(t, tc.edits)), tc.want)
		})
	}
}

func TestDecodeErrors(t *testing.T)     { runRuleCases(t, decodeCases) }
func TestExchangeErrors(t *testing.T)   { runRuleCases(t, exchangeCases) }
func TestStudioErrors(t *testing.T)     { runRuleCases(t, studioCases) }
func TestProductionErrors(t *testing.T) { runRuleCases(t, productionCases) }
func TestTierErrors(t *testing.T)       { runRuleCases(t, tierCases) }

// validCases are edits that must keep the estate valid: the rules above must
// not refuse what the schema allows.
var validCases = []struct {
	name  string
	edits []edit
}{
	{"unquoted 12-digit account", e(replace("studio.yaml", `managementAccount: "111111111111"`, "managementAccount: 111111111111"), replace("harbour.yaml", `account: "444444444444"`, "account: 444444444444"))},
	{"account with a leading zero", e(replace("harbour.yaml", `account: "444444444444"`, `account: "044444444444"`))},
	{"log archive omitted", e(replace("studio.yaml", "logArchiveAccount: \"222222222222\"\n", ""))},
	{"people named in studio.yaml and overridden by a production", e(appendTo("studio.yaml", "people:\n  keyAdmins: [\"sso:{studio}-{production}-Keys\", \"arn:aws:iam::111111111111:role/platform/key-custodian\"]\n  auditors: [sso:SecurityAudit]\n"), appendTo("nightfall.yaml", "people:\n  dataOperators: [sso:NightfallWrangler]\n"))},
	{"retired range reused on purpose", e(appendTo("studio.yaml", "retired:\n  - name: oldshow\n    account: \"666666666666\"\n    vpcCidr: 10.20.0.0/16\n    closed: 2026-06-30\n"), appendTo("nightfall.yaml", "reusesRangeOf: oldshow\n"))},
	{"organization omitted", e(replace("studio.yaml", "organizationId: o-a1b2c3d4e5\norganizationManagementAccount: \"999999999999\"\n", ""))},
	{"vpn omitted", e(replace("studio.yaml", "  vpn:\n    customerGatewayIp: 203.0.113.10\n    bgpAsn: 65000\n", ""))},
	{"existing transit gateway", e(replace("studio.yaml", "transitGatewayAsn: 64512\n", "transitGatewayAsn: 64512\ntransitGatewayId: tgw-0123456789abcdef0\n"))},
	{"4-byte private transit gateway asn", e(replace("studio.yaml", "transitGatewayAsn: 64512", "transitGatewayAsn: 4200000000"))},
	{"no license servers", e(replace("studio.yaml", "licenseServers:\n  - name: houdini\n    cidr: 203.0.113.50/32\n    port: 1715\n  - name: nuke\n    cidr: 203.0.113.51/32\n    port: 4101\n", ""))},
	{"zones omitted", e(replace("studio.yaml", "availabilityZones: [us-west-2a, us-west-2b]\n", ""))},
	{"three zones", e(replace("studio.yaml", "[us-west-2a, us-west-2b]", "[us-west-2a, us-west-2b, us-west-2c]"))},
	{"metal and flex instance types", e(replace("harbour.yaml", "instanceTypes: [c7i.24xlarge]", "instanceTypes: [c7i.metal-48xl, c7i-flex.8xlarge, u-6tb1.metal, r7iz.metal-16xl]"))},
	{"interface endpoints render nodes use", e(replace("nightfall.yaml", "[ecr.api, ecr.dkr]", "[ecr.api, ecr.dkr, elasticfilesystem, fsx, secretsmanager, deadline.scheduling]"))},
	{"studio dns zones", e(replace("studio.yaml", "  cidrs: [192.168.0.0/16]\n", "  cidrs: [192.168.0.0/16]\n  dnsZones: [acme.internal, render.acme.com, license-1.vendor.example, 10.168.192.in-addr.arpa]\n"))},
	{"worker ports", e(replace("studio.yaml", "ports: [4433]\n", "ports: [4433]\n  workerPorts: [8080, 9000]\n"))},
	{"pipeline enabled", e(appendTo("studio.yaml", pipeline))},
	{"pipeline approvers", e(appendTo("studio.yaml", pipeline+"  approvers: [\"sso:{studio}-Release\", arn:aws:iam::111111111111:role/release/Approver]\n"))},
	{"pipeline with the codestar prefix", e(appendTo("studio.yaml", strings.Replace(pipeline, "codeconnections", "codestar-connections", 1)))},
	{"pipeline disabled is not checked", e(appendTo("studio.yaml", "pipeline:\n  enabled: false\n  repository: not checked\n"))},
	{"comments and document markers", e(replace("harbour.yaml", "# Tier 2", "---\n# Tier 2"), appendTo("harbour.yaml", "...\n"))},
	{"explicit nulls leave defaults", e(appendTo("harbour.yaml", "endpoints: ~\nisolation:\naudit: null\n"))},
	{"tier 3 S3 data events off", e(appendTo("brightside.yaml", "audit:\n  s3DataEvents: false\n"))},
	{"status of every life-cycle state", e(appendTo("nightfall.yaml", "status: closing\n"), appendTo("harbour.yaml", "status: closed\n"), appendTo("brightside.yaml", "status: active\n"))},
	{"tier 2 sharing an account with tier 3", e(replace("harbour.yaml", `account: "444444444444"`, `account: "555555555555"`))},
	{"two tier 2 sharing an account", e(copyFile("harbour.yaml", "harbour-two.yaml"), replace("harbour-two.yaml", "name: harbour", "name: harbour-two"), replace("harbour-two.yaml", "vpcCidr: 10.30.0.0/20", "vpcCidr: 10.30.16.0/20"))},
	{"tier 2 asking for a dedicated account", e(appendTo("harbour.yaml", "isolation:\n  dedicatedAccount: true\n  dedicatedKeys: true\n"))},
	{"tier 2 restating what it may share", e(appendTo("harbour.yaml", "isolation:\n  dedicatedKeys: false\n  dedicatedAccount: false\n"))},
	{"tier 1 restating its isolation", e(appendTo("nightfall.yaml", "isolation:\n  dedicatedAccount: true\n  dedicatedVpc: true\n  dedicatedKeys: true\naudit:\n  s3DataEvents: true\n"))},
	{"tier 3 restating the pool", e(appendTo("brightside.yaml", "isolation:\n  dedicatedAccount: false\n  dedicatedVpc: false\n  dedicatedKeys: false\n"))},
	{"tier 3 with dedicated keys in the pool VPC", e(appendTo("brightside.yaml", "isolation:\n  dedicatedKeys: true\n"))},
	{"tier 3 with a dedicated VPC outside any pool", e(replace("lighthouse.yaml", `account: "555555555555"`, `account: "666666666666"`))},
	{"render profiles without a render block", e(replace("nightfall.yaml", "render:\n  ami: ssm:/acme/render/ami\n  instanceTypes: [c6i.32xlarge, m6i.32xlarge]\n  purchase: spot\n  rootVolumeGiB: 100\n  scratchVolumeGiB: 500\n", ""))},
	{"scratch volume omitted", e(replace("harbour.yaml", "  scratchVolumeGiB: 250\n", ""))},
	{"8-digit AMI id", e(replace("harbour.yaml", "ami: ami-0123456789abcdef0", "ami: ami-0123abcd"))},
	{"profile reused through an alias", e(replace("nightfall.yaml", "render:\n", "render: &cpu\n"), replace("nightfall.yaml", "endpoints:", "  cpu: *cpu\nendpoints:"))},
	{"adjacent CIDRs", e(replace("harbour.yaml", "vpcCidr: 10.30.0.0/20", "vpcCidr: 10.21.0.0/16"))},
	{"a production in 172.16.0.0/12", e(replace("harbour.yaml", "vpcCidr: 10.30.0.0/20", "vpcCidr: 172.31.0.0/16"))},
	{"extra files are ignored", e(write("README.md", "not a manifest"), write(".hidden.yaml", "not: [a manifest"))},
	{"productions as .yml", e(rename("harbour.yaml", "harbour.yml"))},
	{"ingest with an agent and two vendors", e(appendTo("studio.yaml", exchangeAccount), appendTo("nightfall.yaml", ingestBlock+vendorsBlock))},
	{"ingest without an agent", e(appendTo("harbour.yaml", "ingest:\n  drRegion: us-east-1\n  archiveAfterDays: 1\n"))},
	{"vendors of a tier 3 production until its last day", e(appendTo("studio.yaml", exchangeAccount), appendTo("lighthouse.yaml", "vendors:\n  - name: grade\n    account: \"131313131313\"\n    access: write\n    until: 2026-05-31\n"))},
	{"agent reading a share by name", e(appendTo("nightfall.yaml", strings.Replace(ingestBlock, "192.168.10.20", "nas.studio.internal", 1)))},
}

func TestValidVariants(t *testing.T) {
	for _, tc := range validCases {
		t.Run(tc.name, func(t *testing.T) {
			assertErrors(t, load(t, edited(t, tc.edits)), nil)
		})
	}
}

// TestAllErrorsInOneRun: three broken files yield all their errors at once,
// sorted by file and then line, and no estate.
func TestAllErrorsInOneRun(t *testing.T) {
	fsys := edited(t, e(
		replace("studio.yaml", "transitGatewayAsn: 64512", "transitGatewayAsn: 7"),
		replace("studio.yaml", "studio: acme", "studio: ACME"),
		replace("nightfall.yaml", "rootVolumeGiB: 200", "rootVolumeGiB: 2"),
		replace("nightfall.yaml", "tier: 1", "tier: 1\ncolour: blue"),
		write("harbour.yaml", ""),
	))
	e, errs := Load(fsys, label)
	if e != nil {
		t.Error("Load returned an estate along with errors")
	}
	var got []string
	for _, err := range errs {
		got = append(got, err.Error())
	}
	assertErrors(t, got, []string{
		"productions/harbour.yaml: file is empty",
		"productions/nightfall.yaml:4: colour: unknown field " + knownProduction,
		"productions/nightfall.yaml:23: renderProfiles.gpu.rootVolumeGiB: must be between 20 and 16384",
		"productions/studio.yaml:2: studio: \"ACME\" must be DNS-safe: lower case letters, digits and hyphens, starting with a letter, at most 12 characters",
		"productions/studio.yaml:15: transitGatewayAsn: 7 is not a private ASN (64512 to 65534, or 4200000000 to 4294967294)",
	})
}

// TestErrorsAreSortedByFileThenLine checks the order on a folder whose files
// and lines are each out of order in the estate and the checks.
func TestErrorsAreSortedByFileThenLine(t *testing.T) {
	fsys := edited(t, e(
		// Cross-file errors are found last, decode errors first.
		replace("nightfall.yaml", `account: "333333333333"`, `account: "111111111111"`),
		replace("nightfall.yaml", "  purchase: spot\n", "  purchase: spt\n"),
		replace("brightside.yaml", "owner: ads@example.com", "owner: ads"),
		replace("brightside.yaml", "tier: 3", "tier: three"),
		replace("studio.yaml", "emails: [security@example.com]", "emails: [security]"),
		replace("studio.yaml", "studio: acme", "studio: \"\""),
	))
	_, errs := Load(fsys, label)
	if len(errs) != 6 {
		t.Fatalf("got %d errors, want 6:\n%v", len(errs), errs)
	}
	for i := 1; i < len(errs); i++ {
		a, b := errs[i-1], errs[i]
		if a.File > b.File || a.File == b.File && a.Line > b.Line {
			t.Errorf("errors out of order:\n%v\n%v", a, b)
		}
	}
	for i, want := range []string{
		"productions/brightside.yaml", "productions/brightside.yaml",
		"productions/nightfall.yaml", "productions/nightfall.yaml",
		"productions/studio.yaml", "productions/studio.yaml",
	} {
		if errs[i].File != want {
			t.Errorf("error %d is in %s, want %s", i, errs[i].File, want)
		}
	}
}

// TestLoadReturnsNoEstateOnAnyError: one error anywhere, even a cross-file
// one found after every file decoded, withholds the whole estate.
func TestLoadReturnsNoEstateOnAnyError(t *testing.T) {
	for name, fsys := range map[string]fstest.MapFS{
		"decode":     edited(t, e(write("harbour.yaml", "{"))),
		"file rule":  edited(t, e(replace("harbour.yaml", "tier: 2", "tier: 5"))),
		"cross-file": edited(t, e(replace("harbour.yaml", "vpcCidr: 10.30.0.0/20", "vpcCidr: 10.20.0.0/20"))),
		"no studio":  edited(t, e(remove("studio.yaml"))),
	} {
		e, errs := Load(fsys, label)
		if e != nil || len(errs) == 0 {
			t.Errorf("%s: Load returned estate %v and %d errors, want no estate and errors", name, e != nil, len(errs))
		}
	}
}

func TestMissingFolder(t *testing.T) {
	got := load(t, os.DirFS(filepath.Join(t.TempDir(), "missing")))
	assertErrors(t, got, []string{"productions: cannot read manifest folder: no such file or directory"})
}

func TestFolderWithoutManifests(t *testing.T) {
	got := load(t, fstest.MapFS{"README.md": {Data: []byte("# manifests")}})
	assertErrors(t, got, []string{"productions/studio.yaml: studio manifest not found: every manifest folder needs one"})
}

// TestAliasExpansionIsBounded: a small file whose aliases would expand into
// millions of values is refused with one error, quickly.
func TestAliasExpansionIsBounded(t *testing.T) {
	var b strings.Builder
	b.WriteString("name: bomb\nrenderProfiles:\n  p0: &p {instanceTypes: [")
	for i := 0; i < 2000; i++ {
		b.WriteString("c6i.large, ")
	}
	b.WriteString("c6i.large]}\n")
	for i := 1; i < 2000; i++ {
		fmt.Fprintf(&b, "  p%d: *p\n", i)
	}
	fsys := edited(t, e(write("bomb.yaml", b.String())))
	start := time.Now()
	got := load(t, fsys)
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("Load took %v", d)
	}
	assertErrors(t, got, []string{
		"productions/bomb.yaml:1: aliases expand to more than 10000 values: write the manifest out in full",
	})
}

// unreadableFS fails to read one file of a MapFS.
type unreadableFS struct {
	fstest.MapFS
	name string
}

func (f unreadableFS) Open(name string) (fs.File, error) {
	if name == f.name {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrPermission}
	}
	return f.MapFS.Open(name)
}

func (f unreadableFS) ReadFile(name string) ([]byte, error) {
	if name == f.name {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrPermission}
	}
	return f.MapFS.ReadFile(name)
}

func TestUnreadableFile(t *testing.T) {
	got := load(t, unreadableFS{edited(t, nil), "harbour.yaml"})
	assertErrors(t, got, []string{"productions/harbour.yaml: cannot read file: permission denied"})
}

func TestErrorListPrintsOneLinePerError(t *testing.T) {
	_, errs := Load(edited(t, e(replace("harbour.yaml", "tier: 2", "tier: 9"), write("brightside.yaml", ""))), label)
	want := "productions/brightside.yaml: file is empty\nproductions/harbour.yaml:3: tier: 9 is not a tier: use 1, 2 or 3"
	if got := errs.Error(); got != want {
		t.Errorf("ErrorList.Error() =\n%s\nwant\n%s", got, want)
	}
}

// TestEveryFieldTypeDecodes guards the decoder's type switch: a field type
// it does not know would panic on the first manifest that sets it.
func TestEveryFieldTypeDecodes(t *testing.T) {
	var walk func(path string, typ reflect.Type)
	walk = func(path string, typ reflect.Type) {
		switch {
		case typ == prefixType || typ == addrType || typ == dateType:
		case typ.Kind() == reflect.Pointer || typ.Kind() == reflect.Slice:
			walk(path, typ.Elem())
		case typ.Kind() == reflect.Map:
			if typ.Key().Kind() != reflect.String {
				t.Errorf("%s: map keys must be strings, not %s", path, typ.Key())
			}
			walk(path, typ.Elem())
		case typ.Kind() == reflect.Struct:
			for i := 0; i < typ.NumField(); i++ {
				f := typ.Field(i)
				if f.Tag.Get("yaml") == "" {
					t.Errorf("%s.%s has no yaml tag", path, f.Name)
				}
				walk(path+"."+f.Name, f.Type)
			}
		case typ.Kind() == reflect.String, typ.Kind() == reflect.Int64, typ.Kind() == reflect.Bool:
		default:
			t.Errorf("%s: the decoder has no case for %s", path, typ)
		}
	}
	walk("Studio", reflect.TypeOf(Studio{}))
	walk("Production", reflect.TypeOf(Production{}))
}

// TestDataEventExclusionsStayWithinTheTrailsSelectorLimit: the
// organization trail leaves each Tier 3 bucket that turned data events off
// out by name, and CloudTrail takes 500 selector values at most, so the
// 401st such production is refused, naming its file.
func TestDataEventExclusionsStayWithinTheTrailsSelectorLimit(t *testing.T) {
	files := baseEstate(t)
	brightside := files["brightside.yaml"]
	var last string
	// lighthouse.yaml turns them off too: with these it is one too many.
	for i := 1; i <= maxDataEventExclusions; i++ {
		name := fmt.Sprintf("zz%04d", i)
		last = name
		files[name+".yaml"] = strings.Replace(brightside, "name: brightside", "name: "+name, 1) + "audit:\n  s3DataEvents: false\n"
	}
	got := load(t, mapFS(files))
	want := fmt.Sprintf("productions/%s.yaml:16: audit.s3DataEvents: more than %d productions turn S3 data events off; the organization trail's selectors hold at most that many exclusions (CloudTrail allows 500 values in all)", last, maxDataEventExclusions)
	assertErrors(t, got, []string{want})
}

func TestEndedWarnsOnlyAboutProductionsPastTheirEndDate(t *testing.T) {
	e, errs := Load(edited(t, nil), label)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	day := func(s string) time.Time {
		d, err := time.Parse(time.DateOnly, s)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	var names []string
	for _, p := range e.Productions {
		names = append(names, p.Name+" "+p.EndDate.String())
	}
	before := e.Ended(day("2026-01-01"))
	if len(before) != 0 {
		t.Errorf("before any end date: %v, want no warning (end dates %v)", before, names)
	}
	var got []string
	for _, w := range e.Ended(day("2026-10-01")) {
		got = append(got, w.Error())
	}
	assertErrors(t, got, []string{
		"productions/brightside.yaml:9: endDate: warning: 2026-09-30 has passed: sanitise and close the production's environment (ISE 6.2, 10.9), or move endDate",
		"productions/lighthouse.yaml:10: endDate: warning: 2026-05-31 has passed: sanitise and close the production's environment (ISE 6.2, 10.9), or move endDate",
	})
	if got := e.Ended(day("2026-09-30")); len(got) != 1 {
		t.Errorf("on brightside's end date itself: %v, want only lighthouse's warning", got)
	}
	// A production that is closing is on its way: no warning.
	for i := range e.Productions {
		if e.Productions[i].Name == "lighthouse" {
			e.Productions[i].Status = StatusClosing
		}
	}
	if got := e.Ended(day("2026-09-30")); len(got) != 0 {
		t.Errorf("with lighthouse closing: %v, want no warning", got)
	}
}

func TestProductionStatusDefaultsToActive(t *testing.T) {
	for _, c := range []struct {
		status, state string
		closing       bool
	}{
		{"", StatusActive, false},
		{"active", StatusActive, false},
		{"closing", StatusClosing, true},
		{"closed", StatusClosed, true},
	} {
		p := Production{Status: c.status}
		if p.State() != c.state || p.Closing() != c.closing {
			t.Errorf("status %q: State() = %q, Closing() = %v; want %q, %v", c.status, p.State(), p.Closing(), c.state, c.closing)
		}
	}
}

// exchangeAccount, ingestBlock and vendorsBlock are a valid exchange
// account for studio.yaml and valid ingest and vendors for nightfall.yaml.
const (
	exchangeAccount = "exchangeAccount: \"121212121212\"\n"
	ingestBlock     = `ingest:
  drRegion: us-east-2
  archiveAfterDays: 90
  dataSyncAgentArn: arn:aws:datasync:us-west-2:333333333333:agent/agent-0123456789abcdef0
  nfsServer: 192.168.10.20
  nfsExport: /exports/camera
`
	vendorsBlock = `vendors:
  - name: lumen
    account: "131313131313"
    access: read
    until: 2026-09-30
  - name: pixelworks
    account: "141414141414"
    access: write
    until: 2026-12-18
`
)

// exchangeCases break the ingest and exchange fields.
var exchangeCases = []ruleCase{
	{"exchange account is the management account", e(appendTo("studio.yaml", `exchangeAccount: "111111111111"`+"\n")), []string{
		"productions/studio.yaml:32: exchangeAccount: 111111111111 is the management, log-archive or organization's management account: vendor roles live in an account of their own",
	}},
	{"exchange account is the organization's management account", e(appendTo("studio.yaml", `exchangeAccount: "999999999999"`+"\n")), []string{
		"productions/studio.yaml:32: exchangeAccount: 999999999999 is the management, log-archive or organization's management account: vendor roles live in an account of their own",
	}},
	{"exchange account holds a production", e(appendTo("studio.yaml", `exchangeAccount: "444444444444"`+"\n")), []string{
		"productions/studio.yaml:32: exchangeAccount: 444444444444 also holds the production of productions/harbour.yaml: vendor roles live in an account apart from every production",
	}},
	{"exchange account holds a pool", e(appendTo("studio.yaml", `exchangeAccount: "555555555555"`+"\n")), []string{
		"productions/studio.yaml:32: exchangeAccount: 555555555555 holds a pool: vendor roles live in an account apart from every production",
		"productions/studio.yaml:32: exchangeAccount: 555555555555 also holds the production of productions/brightside.yaml: vendor roles live in an account apart from every production",
	}},
	{"exchange account not an account id", e(appendTo("studio.yaml", `exchangeAccount: "1212"`+"\n")), []string{
		"productions/studio.yaml:32: exchangeAccount: \"1212\" is not a 12-digit AWS account id (quote it in YAML)",
	}},
	{"vendors without an exchange account", e(appendTo("nightfall.yaml", vendorsBlock)), []string{
		"productions/nightfall.yaml:26: vendors: needs exchangeAccount in studio.yaml: vendor roles and exchange buckets live in an account apart from every production (tier 1)",
	}},
	{"vendor fields", e(appendTo("studio.yaml", exchangeAccount), appendTo("nightfall.yaml", `vendors:
  - name: Lumen
    account: "333333333333"
    access: admin
    until: 2027-01-01
  - name: grade
    account: "444444444444"
    access: read
  - name: grade
    account: "121212121212"
    access: write
    until: 2026-06-30
`)), []string{
		"productions/nightfall.yaml:26: vendors[0].name: \"Lumen\" must be DNS-safe: lower case letters, digits and hyphens, starting with a letter, at most 20 characters",
		"productions/nightfall.yaml:27: vendors[0].account: 333333333333 is an account of the estate (management, log archive, organization, exchange or this production's): a vendor is an outside account",
		"productions/nightfall.yaml:28: vendors[0].access: \"admin\" is not an access level: use read or write",
		"productions/nightfall.yaml:29: vendors[0].until: 2027-01-01 is after the production's endDate 2026-12-18",
		"productions/nightfall.yaml:30: vendors[1].until: is required: the last day the vendor may reach its prefix",
		"productions/nightfall.yaml:31: vendors[1].account: 444444444444 holds the production of productions/harbour.yaml: a vendor is an outside account",
		"productions/nightfall.yaml:33: vendors[2].name: \"grade\" repeats vendors[1]: one prefix and one role per vendor",
		"productions/nightfall.yaml:34: vendors[2].account: 121212121212 is an account of the estate (management, log archive, organization, exchange or this production's): a vendor is an outside account",
	}},
	{"ingest fields", e(appendTo("nightfall.yaml", `ingest:
  drRegion: us-west-2
  archiveAfterDays: 0
  dataSyncAgentArn: arn:aws:datasync:us-east-1:444444444444:agent/agent-0123456789abcdef0
  nfsServer: 10.9.9.9
  nfsExport: exports
`)), []string{
		"productions/nightfall.yaml:26: ingest.drRegion: us-west-2 is the production's own region: the disaster-recovery copy must survive the loss of that region",
		"productions/nightfall.yaml:27: ingest.archiveAfterDays: 0 days: move objects to colder storage after 1 to 3650 days",
		"productions/nightfall.yaml:28: ingest.dataSyncAgentArn: the agent is activated in us-east-1; it must be in the production's region us-west-2, where its endpoint is",
		"productions/nightfall.yaml:29: ingest.nfsServer: 10.9.9.9 is not inside onPremises.cidrs: the agent reads a share on the studio's own network",
		"productions/nightfall.yaml:30: ingest.nfsExport: \"exports\" is not an absolute export path such as /exports/camera",
	}},
	{"ingest agent fields missing", e(appendTo("nightfall.yaml", "ingest:\n  drRegion: us-east-2\n  dataSyncAgentArn: arn:aws:datasync:us-west-2:333333333333:agent/agent-xyz\n")), []string{
		"productions/nightfall.yaml:26: ingest.archiveAfterDays: is required",
		"productions/nightfall.yaml:26: ingest.nfsExport: is required with dataSyncAgentArn: the exported path the agent reads, such as /exports/camera",
		"productions/nightfall.yaml:26: ingest.nfsServer: is required with dataSyncAgentArn: the NFS server the agent reads",
		"productions/nightfall.yaml:27: ingest.dataSyncAgentArn: \"arn:aws:datasync:us-west-2:333333333333:agent/agent-xyz\" is not a DataSync agent ARN such as arn:aws:datasync:us-west-2:333333333333:agent/agent-0123456789abcdef0",
	}},
	{"nfs share without an agent", e(appendTo("nightfall.yaml", "ingest:\n  drRegion: mars-1\n  archiveAfterDays: 4000\n  nfsServer: 192.168.10.20\n  nfsExport: /exports/camera\n")), []string{
		"productions/nightfall.yaml:26: ingest.drRegion: \"mars-1\" is not an AWS region code such as us-west-2",
		"productions/nightfall.yaml:27: ingest.archiveAfterDays: 4000 days: move objects to colder storage after 1 to 3650 days",
		"productions/nightfall.yaml:28: ingest.nfsServer: is only meaningful with dataSyncAgentArn, the agent that reads the share",
		"productions/nightfall.yaml:29: ingest.nfsExport: is only meaningful with dataSyncAgentArn, the agent that reads the share",
	}},
	{"ingest in a pooled production", e(appendTo("brightside.yaml", "ingest:\n  drRegion: us-east-2\n  archiveAfterDays: 30\n")), []string{
		"productions/brightside.yaml:16: ingest: a pooled production has no endpoint subnets of its own for the DataSync endpoint; remove ingest or set isolation.dedicatedVpc: true",
	}},
	{"production named like a DR stack", e(rename("harbour.yaml", "harbour-dr.yaml"), replace("harbour-dr.yaml", "name: harbour", "name: harbour-dr")), []string{
		"productions/harbour-dr.yaml:2: name: \"harbour-dr\" ends with \"-dr\", which is reserved for the exchange and DR stacks of productions; choose another name",
	}},
}

// A production's DR and exchange stacks are the estate's: drift does not
// report them, and reports them once the manifest drops ingest or vendors.
func TestStackNamesHoldTheDataPathStacksOfProductionsThatHaveThem(t *testing.T) {
	e, errs := Load(fixtures.Acme, label)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	got := e.StackNames()
	for name, want := range map[string]bool{"acme-nightfall-dr": true, "acme-nightfall-exchange": true, "acme-harbour-dr": false, "acme-harbour-exchange": false} {
		if got[name] != want {
			t.Errorf("StackNames()[%s] = %v, want %v", name, got[name], want)
		}
	}
}
