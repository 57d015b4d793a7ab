package cfn

import (
	"reflect"
	"testing"
)

func TestSDKCallRendersTheTokensOfItsText(t *testing.T) {
	s := TemplateFromMap("s", map[string]any{"Resources": map[string]any{
		"Vpn": map[string]any{"Type": "AWS::EC2::VPNConnection"},
		"Find": map[string]any{"Type": "Custom::AWS", "Properties": map[string]any{
			"Create": map[string]any{"Fn::Join": []any{"", []any{
				`{"service":"EC2","action":"describeTransitGatewayAttachments","parameters":{"Filters":[{"Name":"resource-id","Values":["`,
				map[string]any{"Ref": "Vpn"}, `"]},{"Name":"tag:Name","Values":["a\"b"]}]}}`}}},
		}},
		"Broken": map[string]any{"Type": "Custom::AWS", "Properties": map[string]any{"Create": "{not json"}},
	}})
	call, err := s.Resource("Find").SDKCall("Create")
	if err != nil {
		t.Fatal(err)
	}
	want := SDKCall{Service: "EC2", Action: "describeTransitGatewayAttachments", Parameters: map[string]any{"Filters": []any{
		map[string]any{"Name": "resource-id", "Values": []any{"${Ref:Vpn}"}},
		map[string]any{"Name": "tag:Name", "Values": []any{`a"b`}}}}}
	if !reflect.DeepEqual(call, want) {
		t.Errorf("got %#v, want %#v", call, want)
	}
	if _, err := s.Resource("Broken").SDKCall("Create"); err == nil {
		t.Error("a call that is not JSON must be an error")
	}
	if _, err := s.Resource("Find").SDKCall("Delete"); err == nil {
		t.Error("a call the resource does not make must be an error")
	}
}
