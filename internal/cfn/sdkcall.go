package cfn

import (
	"encoding/json"
	"fmt"
	"strings"
)

// SDKCall is an AWS SDK call that a Custom::AWS resource (CDK's
// AwsCustomResource) makes: a look-up of something another stack or
// account owns, say.
type SDKCall struct {
	Service    string         `json:"service"`
	Action     string         `json:"action"`
	Parameters map[string]any `json:"parameters"`
	// AssumedRoleArn is the role the call is made as, when not the
	// function's own.
	AssumedRoleArn string `json:"assumedRoleArn,omitempty"`
}

// SDKCall decodes the call the resource makes on event (Create, Update or
// Delete). The call is JSON text joined with intrinsic functions; each is
// rendered by Stack.String, so a Ref to a resource without a declared name
// reads ${Ref:LogicalId}.
func (r *Resource) SDKCall(event string) (SDKCall, error) {
	var call SDKCall
	text, err := r.Stack.joinedJSON(r.Properties[event])
	if err != nil {
		return call, fmt.Errorf("%s: %s: %w", r, event, err)
	}
	if err := json.Unmarshal([]byte(text), &call); err != nil {
		return call, fmt.Errorf("%s: %s is not a JSON SDK call: %w", r, event, err)
	}
	return call, nil
}

// joinedJSON renders JSON text written as a string or an Fn::Join; the
// rendering of any other value is escaped to sit inside a JSON string.
func (s *Stack) joinedJSON(v any) (string, error) {
	switch t := v.(type) {
	case string:
		return t, nil
	case map[string]any:
		if j, ok := t["Fn::Join"].([]any); ok && len(j) == 2 {
			var parts []string
			for _, p := range AsList(j[1]) {
				text, err := s.joinedJSON(p)
				if err != nil {
					return "", err
				}
				parts = append(parts, text)
			}
			return strings.Join(parts, Str(j[0])), nil
		}
		b, err := json.Marshal(s.String(t))
		if err != nil {
			return "", err
		}
		return string(b[1 : len(b)-1]), nil
	case nil:
		return "", fmt.Errorf("no call")
	}
	return "", fmt.Errorf("unexpected %T in the call's text", v)
}
