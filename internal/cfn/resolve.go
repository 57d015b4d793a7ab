package cfn

import (
	"fmt"
	"strings"
)

// Intrinsic resolution. A value in a template is a plain JSON value or an
// intrinsic function. Follow takes a value across stacks (to the SSM
// parameter or export it reads); Resolve finds the resource a value names;
// String renders it as text with what cannot be known at synth time kept as
// readable placeholders (${Ref:LogicalId}, ${GetAtt:LogicalId.Arn},
// ${AWS::AccountId}); Literal says whether nothing was left unknown.

const maxHops = 8

// ssmPrefix starts the type of a template parameter CloudFormation reads
// from SSM Parameter Store at deploy time.
const ssmPrefix = "AWS::SSM::Parameter::Value<"

// Pseudo parameters with a value fixed for the stack.
func (s *Stack) pseudo(name string) (string, bool) {
	switch name {
	case "AWS::AccountId":
		return s.Account, s.Account != ""
	case "AWS::Region":
		return s.Region, s.Region != ""
	case "AWS::Partition":
		return "aws", true
	case "AWS::URLSuffix":
		return "amazonaws.com", true
	case "AWS::StackName":
		return s.Name, true
	case "AWS::NoValue":
		return "", true
	}
	return "", false
}

// IsPseudo reports whether name is an AWS pseudo parameter.
func IsPseudo(name string) bool { return strings.HasPrefix(name, "AWS::") }

// SSMParameter returns the AWS::SSM::Parameter resource, in any stack of
// the assembly, that publishes the parameter a Ref to a template parameter
// of type AWS::SSM::Parameter::Value<...> reads; nil when v is no such Ref
// or nothing in the assembly publishes that name. Names are per account and
// region: a publisher in the stack's own account and region wins.
func (s *Stack) SSMParameter(v any) *Resource {
	id, attr := RefID(v)
	if id == "" || attr != "" || s.assembly == nil {
		return nil
	}
	p := s.Parameters[id]
	if p == nil || !strings.HasPrefix(p.Type, ssmPrefix) {
		return nil
	}
	found := s.assembly.Published(Str(p.Default))
	for _, r := range found {
		if r.Stack.Account == s.Account && r.Stack.Region == s.Region {
			return r
		}
	}
	if len(found) > 0 {
		return found[0]
	}
	return nil
}

// Follow takes a value to where it comes from: through Fn::ImportValue to
// the exporting stack's output value, and through a Ref to an SSM-typed
// parameter to the Value of the AWS::SSM::Parameter that publishes it. It
// returns the stack the value belongs to and the value there; anything else
// is returned as it is.
func (s *Stack) Follow(v any) (*Stack, any) {
	for range maxHops {
		if m := AsMap(v); len(m) == 1 && m["Fn::ImportValue"] != nil && s.assembly != nil {
			o, ok := s.assembly.Export(s.String(m["Fn::ImportValue"]))
			if !ok {
				return s, v
			}
			s, v = o.Stack, o.Value
			continue
		}
		p := s.SSMParameter(v)
		if p == nil {
			return s, v
		}
		s, v = p.Stack, p.Properties["Value"]
	}
	return s, v
}

// Resolve returns the resource a Ref or Fn::GetAtt names, after Follow:
// a resource of the stack, or of the stack that publishes or exports it.
// nil when v names no resource of the assembly.
func (s *Stack) Resolve(v any) *Resource {
	s, v = s.Follow(v)
	id, _ := RefID(v)
	if id == "" {
		return nil
	}
	return s.Resources[id]
}

// Resolve resolves the property at path (see Stack.Resolve).
func (r *Resource) Resolve(path string) *Resource { return r.Stack.Resolve(r.Prop(path)) }

// String renders a value as text: plain strings as they are, Fn::Join and
// Fn::Sub joined, Ref and Fn::GetAtt to the name or ARN a resource
// declares where the template fixes it, pseudo parameters from the stack's
// account and region, SSM parameters and imports followed to the stack that
// publishes them. The rest becomes a placeholder such as ${Ref:LogicalId}.
func (s *Stack) String(v any) string {
	out, _ := s.render(v, 0)
	return out
}

// Literal renders a value as String does and reports whether it is fully
// known at synth time (no placeholder was needed).
func (s *Stack) Literal(v any) (string, bool) { return s.render(v, 0) }

// Strings renders a value that is one value or a list, item by item. An
// intrinsic function that yields a list (Fn::Split, Fn::GetAZs) renders as
// one placeholder.
func (s *Stack) Strings(v any) []string {
	list, isList := v.([]any)
	if !isList {
		if v == nil {
			return nil
		}
		return []string{s.String(v)}
	}
	out := make([]string, 0, len(list))
	for _, x := range list {
		out = append(out, s.String(x))
	}
	return out
}

func (s *Stack) render(v any, depth int) (string, bool) {
	if depth > maxHops*4 {
		return Compact(v), false
	}
	switch t := v.(type) {
	case nil:
		return "", true
	case string:
		return t, true
	case map[string]any:
		if len(t) != 1 {
			return Compact(v), false
		}
		for fn, arg := range t {
			return s.renderFn(fn, arg, depth+1)
		}
	case []any:
		return Compact(v), false
	}
	return Str(v), true
}

func (s *Stack) renderFn(fn string, arg any, depth int) (string, bool) {
	switch fn {
	case "Ref":
		return s.renderRef(Str(arg), "", depth)
	case "Fn::GetAtt":
		id, attr := RefID(map[string]any{fn: arg})
		return s.renderRef(id, attr, depth)
	case "Fn::Join":
		l := AsList(arg)
		if len(l) != 2 {
			break
		}
		parts, ok := l[1].([]any)
		if !ok {
			break
		}
		known := true
		var out []string
		for _, p := range parts {
			text, k := s.render(p, depth)
			out = append(out, text)
			known = known && k
		}
		return strings.Join(out, Str(l[0])), known
	case "Fn::Sub":
		return s.renderSub(arg, depth)
	case "Fn::ImportValue":
		name, ok := s.render(arg, depth)
		if ok && s.assembly != nil {
			if o, found := s.assembly.Export(name); found {
				return o.Stack.render(o.Value, depth)
			}
		}
		return "${ImportValue:" + name + "}", false
	case "Fn::Select":
		l := AsList(arg)
		if len(l) == 2 {
			i, okI := Number(l[0])
			list, okL := l[1].([]any)
			if okI && okL && int(i) >= 0 && int(i) < len(list) {
				return s.render(list[int(i)], depth)
			}
		}
	}
	return Compact(map[string]any{fn: arg}), false
}

// renderRef renders a Ref (attr "") or a GetAtt.
func (s *Stack) renderRef(id, attr string, depth int) (string, bool) {
	if attr == "" {
		if text, ok := s.pseudo(id); ok {
			return text, true
		}
		if IsPseudo(id) {
			return "${" + id + "}", false
		}
		if p := s.SSMParameter(map[string]any{"Ref": id}); p != nil {
			return p.Stack.render(p.Properties["Value"], depth)
		}
		if _, isParam := s.Parameters[id]; isParam {
			return "${Ref:" + id + "}", false
		}
	}
	if r := s.Resources[id]; r != nil {
		if text, known := r.physical(attr); text != "" {
			return text, known
		}
	}
	if attr == "" {
		if r := s.Resources[id]; r != nil {
			return r.placeholder(), false
		}
		return "${Ref:" + id + "}", false
	}
	return "${GetAtt:" + id + "." + attr + "}", false
}

// placeholder stands for the resource's generated name (see
// Assembly.NameGenerated).
func (r *Resource) placeholder() string {
	if a := r.Stack.assembly; a != nil && a.generated != nil {
		if name := a.generated(r); name != "" {
			return name
		}
	}
	return "${Ref:" + r.ID + "}"
}

// physical is what a Ref (attr "") or GetAtt of the resource returns, as
// far as the template fixes it: a declared name, or an ARN built from the
// name, the stack's account and region. A generated name is written
// ${Ref:LogicalId} inside the ARN, so that the text still reads, and
// matches, as an ARN of that type; known is then false.
func (r *Resource) physical(attr string) (text string, known bool) {
	s := r.Stack
	name, named := r.Properties[nameProperty[r.Type]].(string)
	known = named && name != ""
	if !known {
		name = r.placeholder()
	}
	account, region := s.Account, s.Region
	if account == "" {
		account = "${AWS::AccountId}"
	}
	if region == "" {
		region = "${AWS::Region}"
	}
	inAccount := known && s.Account != ""
	inRegion := inAccount && s.Region != ""
	switch r.Type + "." + attr {
	case "AWS::S3::Bucket.", "AWS::IAM::Role.", "AWS::Logs::LogGroup.", "AWS::SSM::Parameter.", "AWS::KMS::Alias.", "AWS::CloudTrail::Trail.", "AWS::IAM::InstanceProfile.":
		return name, known
	case "AWS::S3::Bucket.Arn":
		return "arn:aws:s3:::" + name, known
	case "AWS::IAM::Role.Arn":
		path := Str(r.Properties["Path"])
		if path == "" {
			path = "/"
		}
		return fmt.Sprintf("arn:aws:iam::%s:role%s%s", account, path, name), inAccount
	case "AWS::IAM::ManagedPolicy.", "AWS::IAM::ManagedPolicy.PolicyArn":
		return fmt.Sprintf("arn:aws:iam::%s:policy/%s", account, name), inAccount
	case "AWS::SNS::Topic.", "AWS::SNS::Topic.TopicArn":
		return fmt.Sprintf("arn:aws:sns:%s:%s:%s", region, account, name), inRegion
	case "AWS::Logs::LogGroup.Arn":
		return fmt.Sprintf("arn:aws:logs:%s:%s:log-group:%s:*", region, account, name), inRegion
	case "AWS::CloudTrail::Trail.Arn":
		return fmt.Sprintf("arn:aws:cloudtrail:%s:%s:trail/%s", region, account, name), inRegion
	case "AWS::KMS::Key.Arn":
		// Key ids are generated: the ARN is never known at synth time.
		return fmt.Sprintf("arn:aws:kms:%s:%s:key/%s", region, account, r.placeholder()), false
	}
	return "", false
}

// nameProperty is the property that holds a resource type's physical name.
var nameProperty = map[string]string{
	"AWS::S3::Bucket":           "BucketName",
	"AWS::IAM::Role":            "RoleName",
	"AWS::IAM::ManagedPolicy":   "ManagedPolicyName",
	"AWS::IAM::InstanceProfile": "InstanceProfileName",
	"AWS::Logs::LogGroup":       "LogGroupName",
	"AWS::SSM::Parameter":       "Name",
	"AWS::KMS::Alias":           "AliasName",
	"AWS::SNS::Topic":           "TopicName",
	"AWS::CloudTrail::Trail":    "TrailName",
}

func (s *Stack) renderSub(arg any, depth int) (string, bool) {
	text, vars := "", map[string]any(nil)
	switch t := arg.(type) {
	case string:
		text = t
	case []any:
		if len(t) == 2 {
			text, vars = Str(t[0]), AsMap(t[1])
		}
	}
	var b strings.Builder
	known := true
	for {
		i := strings.Index(text, "${")
		if i < 0 {
			b.WriteString(text)
			break
		}
		b.WriteString(text[:i])
		j := strings.IndexByte(text[i:], '}')
		if j < 0 {
			b.WriteString(text[i:])
			break
		}
		name := text[i+2 : i+j]
		text = text[i+j+1:]
		var part string
		var ok bool
		switch {
		case strings.HasPrefix(name, "!"):
			part, ok = "${"+name[1:]+"}", true
		case vars != nil && vars[name] != nil:
			part, ok = s.render(vars[name], depth)
		case strings.Contains(name, ".") && !IsPseudo(name):
			id, attr, _ := strings.Cut(name, ".")
			part, ok = s.renderRef(id, attr, depth)
		default:
			part, ok = s.renderRef(name, "", depth)
		}
		b.WriteString(part)
		known = known && ok
	}
	return b.String(), known
}
