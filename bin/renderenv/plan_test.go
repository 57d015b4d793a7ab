package main

import (
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// stackTags are the tags of the small assemblies' stacks: the production
// stack carries Production, as renderenv's do.
var stackTags = map[string]map[string]string{
	"acme-network":   {"Studio": "acme", "Tier": "shared", "ResourceGroup": "network"},
	"acme-nightfall": {"Studio": "acme", "Tier": "1", "Production": "nightfall"},
	"acme-legacy":    {"Studio": "acme", "Tier": "3", "Production": "legacy"},
	"acme-harbour":   {"Studio": "acme", "Tier": "2", "Production": "harbour"},
}

// writeSmallAssembly writes a cloud assembly of the given templates (stack
// name to template) into a new temporary folder: manifest.json as cdk
// synth writes it, and one template file per stack.
func writeSmallAssembly(t *testing.T, templates map[string]map[string]any) string {
	t.Helper()
	dir := t.TempDir()
	artifacts := map[string]any{}
	for _, name := range slices.Sorted(maps.Keys(templates)) {
		file := name + ".template.json"
		writeJSON(t, filepath.Join(dir, file), templates[name])
		artifacts[name] = map[string]any{
			"type":        "aws:cloudformation:stack",
			"environment": "aws://333333333333/us-west-2",
			"properties":  map[string]any{"templateFile": file, "stackName": name, "tags": stackTags[name]},
		}
	}
	writeJSON(t, filepath.Join(dir, "manifest.json"), map[string]any{"version": "36.0.0", "artifacts": artifacts})
	return dir
}

func writeJSON(t *testing.T, path string, v any) {
	t.Helper()
	b, err := json.MarshalIndent(v, "", " ")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func res(typ string, props map[string]any, attrs ...string) map[string]any {
	r := map[string]any{"Type": typ, "Properties": props}
	for i := 0; i+1 < len(attrs); i += 2 {
		r[attrs[i]] = attrs[i+1]
	}
	return r
}

func ref(id string) map[string]any { return map[string]any{"Ref": id} }

// baseEstate is a small estate: a network stack with a VPC, a subnet, a
// route and a role; a production stack with a retained bucket and key, a
// log group, an interface endpoint in two zones and a Transit Gateway
// attachment; and a production stack with a retained log group. Each call
// returns a fresh copy to edit.
func baseEstate() map[string]map[string]any {
	return map[string]map[string]any{
		"acme-network": {"Resources": map[string]any{
			"Vpc":    res("AWS::EC2::VPC", map[string]any{"CidrBlock": "10.0.0.0/16", "EnableDnsSupport": true}),
			"Subnet": res("AWS::EC2::Subnet", map[string]any{"VpcId": ref("Vpc"), "CidrBlock": "10.0.0.0/24", "AvailabilityZone": "us-west-2a"}),
			"Route": res("AWS::EC2::Route", map[string]any{"RouteTableId": "rtb-1", "DestinationCidrBlock": "192.168.0.0/16",
				"TransitGatewayId": "tgw-1"}),
			"AdminRole": res("AWS::IAM::Role", map[string]any{"RoleName": "acme-admin", "MaxSessionDuration": 3600}),
			"Nat":       res("AWS::EC2::NatGateway", map[string]any{"SubnetId": ref("Subnet")}),
		}},
		"acme-nightfall": {"Resources": map[string]any{
			"AssetBucket": res("AWS::S3::Bucket", map[string]any{"BucketName": "acme-nightfall-assets"}, "DeletionPolicy", "Retain", "UpdateReplacePolicy", "Retain"),
			"AssetKey":    res("AWS::KMS::Key", map[string]any{"EnableKeyRotation": true}, "DeletionPolicy", "Retain", "UpdateReplacePolicy", "Retain"),
			"FlowLogs":    res("AWS::Logs::LogGroup", map[string]any{"LogGroupName": "/acme-nightfall/flow-logs", "RetentionInDays": 365}, "DeletionPolicy", "Retain"),
			"SsmEndpoint": res("AWS::EC2::VPCEndpoint", map[string]any{"VpcEndpointType": "Interface", "ServiceName": "com.amazonaws.us-west-2.ssm",
				"VpcId": "vpc-1", "SubnetIds": []any{"subnet-a", "subnet-b"}}),
			"S3Endpoint": res("AWS::EC2::VPCEndpoint", map[string]any{"VpcEndpointType": "Gateway", "ServiceName": "com.amazonaws.us-west-2.s3", "VpcId": "vpc-1"}),
			"Attachment": res("AWS::EC2::TransitGatewayAttachment", map[string]any{"VpcId": "vpc-1", "TransitGatewayId": "tgw-1",
				"SubnetIds": []any{"subnet-a", "subnet-b"}}),
		}},
		"acme-legacy": {"Resources": map[string]any{
			"Sessions": res("AWS::Logs::LogGroup", map[string]any{"LogGroupName": "/acme-legacy/sessions"}, "DeletionPolicy", "Retain"),
			"Alarm":    res("AWS::CloudWatch::Alarm", map[string]any{"AlarmName": "legacy-root-login"}),
		}},
	}
}

func props(tpl map[string]map[string]any, stack, id string) map[string]any {
	return tpl[stack]["Resources"].(map[string]any)[id].(map[string]any)["Properties"].(map[string]any)
}

func resources(tpl map[string]map[string]any, stack string) map[string]any {
	return tpl[stack]["Resources"].(map[string]any)
}

func TestPlanGolden(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(map[string]map[string]any)
		args []string
		code int
	}{
		{
			// Everything but a stateful replacement or removal: exit 0.
			name: "changes", code: 0,
			edit: func(e map[string]map[string]any) {
				props(e, "acme-network", "AdminRole")["MaxSessionDuration"] = 7200                                          // changed in place
				props(e, "acme-network", "Route")["DestinationCidrBlock"] = "172.16.0.0/12"                                 // replaced, not stateful
				props(e, "acme-nightfall", "FlowLogs")["KmsKeyId"] = map[string]any{"Fn::GetAtt": []any{"AssetKey", "Arn"}} // in place
				props(e, "acme-nightfall", "SsmEndpoint")["SubnetIds"] = []any{"subnet-a", "subnet-b", "subnet-c"}
				resources(e, "acme-nightfall")["KmsEndpoint"] = res("AWS::EC2::VPCEndpoint", map[string]any{"VpcEndpointType": "Interface",
					"ServiceName": "com.amazonaws.us-west-2.kms", "VpcId": "vpc-1", "SubnetIds": []any{"subnet-a", "subnet-b"}})
				// A logical id that changes: a removal and an addition.
				n := resources(e, "acme-network")
				n["AdminRole2"], n["AdminRole"] = n["AdminRole"], nil
				delete(n, "AdminRole")
				delete(n, "Nat")
			},
		},
		{
			name: "replace-bucket", code: 2,
			edit: func(e map[string]map[string]any) {
				props(e, "acme-nightfall", "AssetBucket")["BucketName"] = "acme-nightfall-assets-v2"
			},
		},
		{
			name: "replace-bucket-color", code: 2, args: []string{"--color", "always"},
			edit: func(e map[string]map[string]any) {
				props(e, "acme-nightfall", "AssetBucket")["ObjectLockEnabled"] = true
			},
		},
		{
			name: "replace-key", code: 2,
			edit: func(e map[string]map[string]any) {
				props(e, "acme-nightfall", "AssetKey")["KeySpec"] = "RSA_4096"
				props(e, "acme-nightfall", "AssetKey")["KeyUsage"] = "SIGN_VERIFY"
			},
		},
		{
			// The subnet and the NAT gateway follow the VPC they refer to.
			name: "replace-vpc", code: 2,
			edit: func(e map[string]map[string]any) {
				props(e, "acme-network", "Vpc")["CidrBlock"] = "10.1.0.0/16"
			},
		},
		{
			// A key removed from its template is orphaned, not deleted; a
			// stack removed and a stack added.
			name: "remove-stacks-and-key", code: 2,
			edit: func(e map[string]map[string]any) {
				delete(resources(e, "acme-nightfall"), "AssetKey")
				delete(e, "acme-legacy")
				e["acme-harbour"] = map[string]any{"Resources": map[string]any{
					"AssetBucket": res("AWS::S3::Bucket", map[string]any{"BucketName": "acme-harbour-assets"}, "DeletionPolicy", "Retain"),
					"Attachment":  res("AWS::EC2::TransitGatewayAttachment", map[string]any{"VpcId": "vpc-2", "TransitGatewayId": "tgw-1"}),
					"Role":        res("AWS::IAM::Role", map[string]any{}),
				}}
			},
		},
		{
			name: "production", code: 0, args: []string{"--production", "nightfall"},
			edit: func(e map[string]map[string]any) {
				props(e, "acme-network", "Vpc")["CidrBlock"] = "10.1.0.0/16" // not nightfall's: not shown
				props(e, "acme-nightfall", "Attachment")["SubnetIds"] = []any{"subnet-a"}
			},
		},
		{name: "no-changes", code: 0, edit: func(map[string]map[string]any) {}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			base := writeSmallAssembly(t, baseEstate())
			next := baseEstate()
			tc.edit(next)
			dir := writeSmallAssembly(t, next)
			args := append([]string{"plan", "--base", base, "--assembly", dir}, tc.args...)
			code, stdout, stderr := runCLI(args...)
			if code != tc.code {
				t.Errorf("renderenv %s = %d, want %d\nstdout:\n%s\nstderr: %s", strings.Join(tc.args, " "), code, tc.code, stdout, stderr)
			}
			colour := strings.Contains(stdout, "\x1b[")
			if wantColour := slices.Contains(tc.args, "always"); colour != wantColour {
				t.Errorf("ANSI colour in the output: %v, want %v", colour, wantColour)
			}
			golden(t, filepath.Join("testdata", "plan", tc.name+".golden"), fmt.Sprintf("exit %d\n%s--- stderr\n%s", code, stdout, stderr))
		})
	}
}

func TestPlanRejectsUnreadableInput(t *testing.T) {
	good := writeSmallAssembly(t, baseEstate())
	broken := writeSmallAssembly(t, baseEstate())
	if err := os.WriteFile(filepath.Join(broken, "acme-legacy.template.json"), []byte("{"), 0o644); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(t.TempDir(), "nowhere")
	for _, tc := range []struct {
		args []string
		want string // in stderr
	}{
		{[]string{"--base", missing, "--assembly", good}, missing + ": no cloud assembly here"},
		{[]string{"--base", good, "--assembly", broken}, filepath.Join(broken, "acme-legacy.template.json")},
		{[]string{"--assembly", good}, "--base: name the assembly"},
		{[]string{"--base", good, "--assembly", good, "--color", "pink"}, `--color "pink"`},
		{[]string{"--base", good, "--assembly", good, "--production", "nobody"}, `no stack of production "nobody"`},
	} {
		code, stdout, stderr := runCLI(append([]string{"plan"}, tc.args...)...)
		if code != 1 || stdout != "" || !strings.Contains(stderr, tc.want) {
			t.Errorf("renderenv plan %s = %d\nstdout: %s\nstderr: %s\nwant 1, no output and %q in stderr", strings.Join(tc.args, " "), code, stdout, stderr, tc.want)
		}
	}
}

func TestCostGolden(t *testing.T) {
	dir := writeSmallAssembly(t, baseEstate())
	for _, tc := range []struct {
		name string
		args []string
	}{
		{"cost", nil},
		{"cost-nightfall", []string{"--production", "nightfall"}},
	} {
		code, stdout, stderr := runCLI(append([]string{"cost", "--assembly", dir}, tc.args...)...)
		if code != 0 || stderr != "" {
			t.Errorf("renderenv cost %s = %d, stderr %s; want 0 and nothing", strings.Join(tc.args, " "), code, stderr)
		}
		golden(t, filepath.Join("testdata", "plan", tc.name+".golden"), stdout)
	}
	code, _, stderr := runCLI("cost", "--assembly", filepath.Join(dir, "nowhere"))
	if code != 1 || !strings.Contains(stderr, filepath.Join(dir, "nowhere")) {
		t.Errorf("renderenv cost on a missing folder = %d, %q; want 1 and the folder named", code, stderr)
	}
	if code, _, stderr := runCLI("cost", dir); code != 2 || !strings.Contains(stderr, "--assembly") {
		t.Errorf("renderenv cost DIR = %d, %q; want 2 (bad usage) and --assembly named", code, stderr)
	}
	if code, _, stderr := runCLI("cost", "--assembly", dir, "--production", "nobody"); code != 1 || !strings.Contains(stderr, `no stack of production "nobody"`) {
		t.Errorf("renderenv cost --production nobody = %d, %q; want 1", code, stderr)
	}
}
