package cfn

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func readFixture(t *testing.T) *Assembly {
	t.Helper()
	a, err := ReadAssembly(filepath.Join("testdata", "assembly"))
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func TestReadAssemblyReadsNestedStacksWithTheirEnvironmentTagsAndDependencies(t *testing.T) {
	a := readFixture(t)
	var names []string
	for _, s := range a.Stacks {
		names = append(names, s.Name)
	}
	if want := []string{"acme-app", "hub"}; !slices.Equal(names, want) {
		t.Fatalf("stacks %v, want %v", names, want)
	}
	app := a.Stack("acme-app")
	if app.Account != "333333333333" || app.Region != "us-west-2" || app.Tags["Production"] != "nightfall" || !slices.Equal(app.Dependencies, []string{"hub"}) {
		t.Errorf("acme-app: account %q region %q tags %v dependencies %v", app.Account, app.Region, app.Tags, app.Dependencies)
	}
	if app.TemplateFile != "app.template.json" || app.Size == 0 {
		t.Errorf("acme-app: template file %q, size %d", app.TemplateFile, app.Size)
	}
	if !a.Stack("hub").TerminationProtection || app.TerminationProtection {
		t.Errorf("termination protection: hub %v, acme-app %v; want on, off", a.Stack("hub").TerminationProtection, app.TerminationProtection)
	}
	k := a.Stack("hub").Resource("Key")
	if k.DeletionPolicy != "Retain" || k.UpdateReplacePolicy != "Retain" || k.Path() != "hub/Key/Resource" {
		t.Errorf("hub/Key: %q %q %q", k.DeletionPolicy, k.UpdateReplacePolicy, k.Path())
	}
	if got := len(a.Resources("AWS::IAM::ManagedPolicy", "AWS::KMS::Key")); got != 3 {
		t.Errorf("3 managed policies and keys, got %d", got)
	}
}

func TestReadAssemblyNamesTheFolderWhenThereIsNoAssembly(t *testing.T) {
	dir := t.TempDir()
	_, err := ReadAssembly(dir)
	if err == nil || !strings.Contains(err.Error(), dir) || !strings.Contains(err.Error(), "manifest.json") {
		t.Errorf("got %v, want an error naming %s and manifest.json", err, dir)
	}
	if err := os.WriteFile(filepath.Join(dir, "manifest.json"), []byte("{"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadAssembly(dir); err == nil || !strings.Contains(err.Error(), "manifest.json") {
		t.Errorf("a broken manifest: got %v", err)
	}
}

func TestPropertyPaths(t *testing.T) {
	v := readFixture(t).Stack("acme-app").Resource("Volume")
	for path, want := range map[string]any{
		"Nested.List[0].A":    1.0,
		"Nested.List[1].A[1]": 6.0,
		"Nested.List[2].A":    nil,
		"Tags.Studio":         "acme",
		"Missing.Deep":        nil,
	} {
		if got := v.Prop(path); got != want {
			t.Errorf("Prop(%q) = %v, want %v", path, got, want)
		}
	}
}

func TestIntrinsicsResolve(t *testing.T) {
	a := readFixture(t)
	app, hub := a.Stack("acme-app"), a.Stack("hub")
	key := hub.Resource("Key")
	if got := app.Resource("Volume").Resolve("KmsKeyId"); got != key {
		t.Errorf("the SSM parameter resolves to %v, want hub/Key", got)
	}
	if got := app.SSMParameter(app.Resource("Volume").Prop("KmsKeyId")); got != hub.Resource("KeyParam") {
		t.Errorf("SSMParameter = %v, want hub/KeyParam", got)
	}
	if got := app.Resource("Policy").Resolve("PolicyDocument.Statement.Resource"); got != app.Resource("Group") {
		t.Errorf("GetAtt resolves to %v", got)
	}
	for _, tc := range []struct {
		v     any
		want  string
		known bool
	}{
		{map[string]any{"Fn::ImportValue": "acme-bucket"}, "acme-logs", true},
		{map[string]any{"Fn::Sub": "arn:${AWS::Partition}:s3:::${Bucket}/x-${!Literal}"}, "arn:aws:s3:::${Ref:Bucket}/x-${Literal}", false},
		{map[string]any{"Fn::Join": []any{"-", []any{map[string]any{"Ref": "AWS::AccountId"}, map[string]any{"Ref": "AWS::Region"}, map[string]any{"Ref": "AWS::StackName"}}}}, "333333333333-us-west-2-acme-app", true},
		{map[string]any{"Ref": "Plain"}, "${Ref:Plain}", false},
		{map[string]any{"Ref": "KeyArnParam"}, "arn:aws:kms:us-west-2:111111111111:key/${Ref:Key}", false},
		{map[string]any{"Fn::GetAtt": []any{"Group", "Arn"}}, "arn:aws:logs:us-west-2:333333333333:log-group:${Ref:Group}:*", false},
		{map[string]any{"Fn::GetAtt": []any{"Volume", "VolumeId"}}, "${GetAtt:Volume.VolumeId}", false},
		{map[string]any{"Fn::GetAtt": []any{"Role", "Arn"}}, "arn:aws:iam::333333333333:role/acme-app-render", true},
		{map[string]any{"Ref": "AWS::StackId"}, "${AWS::StackId}", false},
		{map[string]any{"Fn::Select": []any{1.0, []any{"a", "b"}}}, "b", true},
	} {
		got, known := app.Literal(tc.v)
		if got != tc.want || known != tc.known {
			t.Errorf("Literal(%s) = %q, %v; want %q, %v", Compact(tc.v), got, known, tc.want, tc.known)
		}
	}
	if got := hub.String(map[string]any{"Fn::Sub": []any{"${Bucket.Arn}/*", map[string]any{}}}); got != "arn:aws:s3:::acme-logs/*" {
		t.Errorf("Sub with GetAtt = %q", got)
	}
}

func TestGeneratedNamesCanBeNamedPerStack(t *testing.T) {
	a := readFixture(t)
	a.NameGenerated(func(r *Resource) string { return r.Stack.Name + "." + r.ID })
	app := a.Stack("acme-app")
	if got := app.String(map[string]any{"Ref": "KeyArnParam"}); got != "arn:aws:kms:us-west-2:111111111111:key/hub.Key" {
		t.Errorf("a key of another stack renders as %q", got)
	}
	if got := app.String(map[string]any{"Ref": "Plain"}); got != "${Ref:Plain}" {
		t.Errorf("a template parameter renders as %q", got)
	}
	if got := app.String(map[string]any{"Ref": "Volume"}); got != "acme-app.Volume" {
		t.Errorf("a resource without a name renders as %q", got)
	}
}

func TestPoliciesAreNormalised(t *testing.T) {
	a := readFixture(t)
	app := a.Stack("acme-app")
	role := app.Resource("Role")
	byKind := map[PolicyKind][]*Policy{}
	for _, p := range a.Policies() {
		byKind[p.Kind] = append(byKind[p.Kind], p)
	}
	if n := [...]int{len(byKind[Trust]), len(byKind[Identity]), len(byKind[Boundary]), len(byKind[Key])}; n != [...]int{1, 3, 1, 1} {
		t.Fatalf("trust, identity, boundary, key policies: %v", n)
	}
	key := byKind[Key][0].Statements[0]
	if want := []string{"arn:aws:iam::111111111111:root"}; !slices.Equal(key.Principal.AWS, want) || key.Principal.Wildcard {
		t.Errorf("key policy principal %+v, want AWS %v", key.Principal, want)
	}
	if got := key.Values(nil, "KMS:VIASERVICE"); !slices.Equal(got, []string{"s3.us-west-2.amazonaws.com"}) {
		t.Errorf("condition kms:ViaService = %v", got)
	}
	if !key.Grants("KMS:Decrypt") || key.Grants("kms:Encrypt") || !slices.Equal(key.Action, []string{"kms:Decrypt"}) || !slices.Equal(key.Resource, []string{"*"}) {
		t.Errorf("key statement %+v", key)
	}
	var roles []string
	for _, p := range a.RolePolicies(role) {
		roles = append(roles, p.Resource.ID+" "+p.Path+" "+strings.Join(p.Statements[0].Resource, ","))
	}
	want := []string{
		"Managed PolicyDocument arn:aws:s3:::acme-logs/*",
		"Policy PolicyDocument arn:aws:logs:us-west-2:333333333333:log-group:${Ref:Group}:*",
		"Role Policies[0].PolicyDocument arn:aws:kms:us-west-2:111111111111:key/${Ref:Key}",
	}
	if !slices.Equal(roles, want) {
		t.Errorf("the role's policies:\n%s\nwant\n%s", strings.Join(roles, "\n"), strings.Join(want, "\n"))
	}
	b := byKind[Boundary][0]
	if b.Resource.ID != "Boundary" || len(b.Roles) != 1 || b.Roles[0] != role || !b.Statements[0].Covers("ec2:RunInstances") || b.Statements[0].Covers("s3:GetObject") {
		t.Errorf("boundary %+v", b)
	}
	if got := role.ManagedPolicyNames(); !slices.Equal(got, []string{"AmazonSSMManagedInstanceCore"}) {
		t.Errorf("managed policy names %v", got)
	}
	if p := byKind[Trust][0].Statements[0].Principal; !slices.Equal(p.Service, []string{"ec2.amazonaws.com"}) {
		t.Errorf("trust principal %+v", p)
	}
}

func TestStacksWithoutManifestTagsTakeTheTagsMostResourcesCarry(t *testing.T) {
	s, err := ParseTemplate("x", []byte(`{"Resources": {
		"A": {"Type": "AWS::EC2::VPC", "Properties": {"Tags": [{"Key": "Studio", "Value": "acme"}, {"Key": "Group", "Value": "network"}]}},
		"B": {"Type": "AWS::SSM::Parameter", "Properties": {"Tags": {"Studio": "acme", "Group": "network", "Name": "b"}}},
		"D": {"Type": "AWS::KMS::Key", "Properties": {"Tags": [{"Key": "Studio", "Value": "acme"}, {"Key": "Group", "Value": "security"}]}},
		"C": {"Type": "AWS::EC2::Route", "Properties": {}}}}`))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := NewAssembly(s); err != nil {
		t.Fatal(err)
	}
	if len(s.Tags) != 2 || s.Tags["Studio"] != "acme" || s.Tags["Group"] != "network" {
		t.Errorf("tags %v, want Studio=acme and Group=network only", s.Tags)
	}
	if _, err := ParseTemplate("y", []byte("not json")); err == nil || !strings.HasPrefix(err.Error(), "y: ") {
		t.Errorf("a broken template: %v", err)
	}
}

func TestGlob(t *testing.T) {
	for _, tc := range []struct {
		p, s string
		want bool
	}{
		{"kms:*", "kms:Decrypt", true}, {"kms:GenerateDataKey*", "KMS:GenerateDataKeyWithoutPlaintext", true},
		{"kms:?ecrypt", "kms:Decrypt", true}, {"s3:Get*", "s3:PutObject", false}, {"*", "", true}, {"a*b*c", "axxbyyc", true}, {"a*b*c", "axxbyy", false},
	} {
		if got := Glob(tc.p, tc.s); got != tc.want {
			t.Errorf("Glob(%q, %q) = %v", tc.p, tc.s, got)
		}
	}
}
