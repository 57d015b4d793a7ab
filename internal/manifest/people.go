package manifest

import (
	"fmt"
	"regexp"
	"strings"
)

// People names who may assume a production's people roles (ISE 1.3, 7.1,
// 9.3). Each entry is a principal of the management account, where people
// sign in:
//
//   - sso:NAME, the role IAM Identity Center creates for the permission set
//     NAME (AWSReservedSSO_NAME_<suffix>, under /aws-reserved/sso.amazonaws.com/);
//   - arn:aws:iam::<management>:role/NAME, a role of the management account
//     (its sessions must carry MFA).
//
// {production} stands for the production's name and {studio} for the
// studio's. A field left out takes the studio's list, and a studio field
// left out the default below.
type People struct {
	KeyAdmins     []string `yaml:"keyAdmins"`
	DataOperators []string `yaml:"dataOperators"`
	LogReaders    []string `yaml:"logReaders"`
}

// StudioPeople are the studio's defaults for every production, and who may
// assume the studio's own people roles.
type StudioPeople struct {
	KeyAdmins     []string `yaml:"keyAdmins"`
	DataOperators []string `yaml:"dataOperators"`
	LogReaders    []string `yaml:"logReaders"`
	// Auditors assume the audit reader (the central trail) and the
	// management log reader (the management VPC's flow logs).
	Auditors []string `yaml:"auditors"`
	// PoolKeyAdmins administer the keys of every pool.
	PoolKeyAdmins []string `yaml:"poolKeyAdmins"`
}

// The defaults: one Identity Center permission set per production and
// duty, named after the production, and two for the studio.
var (
	DefaultKeyAdmins     = []string{"sso:{production}-KeyAdmin"}
	DefaultDataOperators = []string{"sso:{production}-Data"}
	DefaultLogReaders    = []string{"sso:{production}-Logs"}
	DefaultAuditors      = []string{"sso:{studio}-Audit"}
	DefaultPoolKeyAdmins = []string{"sso:{studio}-PoolKeys"}
	// DefaultPipelineApprovers is one permission set for the studio's
	// release approvers: without pipeline.approvers, nobody else's
	// approval releases a change, whatever IAM lets them click.
	DefaultPipelineApprovers = []string{"sso:{studio}-PipelineApprovers"}
)

// Limits on people lists: each principal adds up to two patterns to a trust
// policy, which holds at most 2,048 characters by default.
const (
	maxPeople            = 5
	maxPermissionSetName = 32
)

var (
	permissionSet = regexp.MustCompile(`^[A-Za-z0-9+=,.@_-]+$`)
	placeholder   = regexp.MustCompile(`\{[^}]*\}`)
)

// Person is one principal a people list names, its placeholders replaced.
type Person struct {
	// PermissionSet is the Identity Center permission set, for sso:NAME.
	PermissionSet string
	// RoleArn is the management account's role, for a role ARN.
	RoleArn string
}

// SSOPrefix marks an Identity Center permission set in a people list.
const SSOPrefix = "sso:"

// String is the person as a manifest writes it.
func (p Person) String() string {
	if p.PermissionSet != "" {
		return SSOPrefix + p.PermissionSet
	}
	return p.RoleArn
}

// PrincipalArns are the aws:PrincipalArn values (ArnLike) of the person's
// sessions in account. Identity Center puts its roles under
// /aws-reserved/sso.amazonaws.com/, with the region of its instance in the
// path for instances created since 2023, and ends each name with a
// 16-character suffix; only Identity Center may create roles there.
func (p Person) PrincipalArns(account string) []string {
	if p.PermissionSet == "" {
		return []string{p.RoleArn}
	}
	base := fmt.Sprintf("arn:aws:iam::%s:role/aws-reserved/sso.amazonaws.com/", account)
	name := "AWSReservedSSO_" + p.PermissionSet + "_" + strings.Repeat("?", 16)
	return []string{base + name, base + "*/" + name}
}

// SSO reports whether the person signs in through Identity Center, whose
// sessions carry no aws:MultiFactorAuthPresent: Identity Center enforces
// MFA at sign-in.
func (p Person) SSO() bool { return p.PermissionSet != "" }

// Crew are a production's people, resolved.
type Crew struct {
	KeyAdmins, DataOperators, LogReaders []Person
}

// CrewOf is who may assume the people roles of production p.
func (s *Studio) CrewOf(p *Production) Crew {
	pick := func(own, studio, def []string) []Person {
		switch {
		case own != nil:
			return s.persons(own, p.Name)
		case studio != nil:
			return s.persons(studio, p.Name)
		}
		return s.persons(def, p.Name)
	}
	return Crew{
		KeyAdmins:     pick(p.People.KeyAdmins, s.People.KeyAdmins, DefaultKeyAdmins),
		DataOperators: pick(p.People.DataOperators, s.People.DataOperators, DefaultDataOperators),
		LogReaders:    pick(p.People.LogReaders, s.People.LogReaders, DefaultLogReaders),
	}
}

// Auditors may assume the audit reader and the management log reader.
func (s *Studio) Auditors() []Person {
	return s.persons(orDefault(s.People.Auditors, DefaultAuditors), "")
}

// PoolKeyAdmins may assume every pool's key administrator.
func (s *Studio) PoolKeyAdmins() []Person {
	return s.persons(orDefault(s.People.PoolKeyAdmins, DefaultPoolKeyAdmins), "")
}

// PipelineApprovers are the only principals whose manual approvals the
// delivery pipeline accepts.
func (s *Studio) PipelineApprovers() []Person {
	return s.persons(orDefault(s.Pipeline.Approvers, DefaultPipelineApprovers), "")
}

func orDefault(list, def []string) []string {
	if list != nil {
		return list
	}
	return def
}

// persons resolves a validated list.
func (s *Studio) persons(list []string, production string) []Person {
	out := make([]Person, 0, len(list))
	for _, v := range list {
		v = s.expand(v, production)
		if name, ok := strings.CutPrefix(v, SSOPrefix); ok {
			out = append(out, Person{PermissionSet: name})
		} else {
			out = append(out, Person{RoleArn: v})
		}
	}
	return out
}

func (s *Studio) expand(v, production string) string {
	v = strings.ReplaceAll(v, "{studio}", s.Studio)
	if production != "" {
		v = strings.ReplaceAll(v, "{production}", production)
	}
	return v
}

// validatePeople checks one people list at f; production is "" for a
// studio-wide role, which no {production} can name, and "*" for the
// studio's defaults, checked again for each production that takes them.
func validatePeople(s *Studio, r reporter, f Path, list []string, production string) {
	if list == nil {
		return
	}
	if len(list) == 0 {
		r.add(f, "is empty: name at least one principal, or leave the field out for the default")
	}
	if len(list) > maxPeople {
		r.add(f, "names %d principals; at most %d fit a role's trust policy: group people in fewer permission sets or roles", len(list), maxPeople)
	}
	seen := map[string]bool{}
	for i, v := range list {
		fp := f.Index(i)
		if seen[v] {
			r.add(fp, "%q is listed twice", v)
		}
		seen[v] = true
		for _, ph := range placeholder.FindAllString(v, -1) {
			switch {
			case ph == "{studio}":
			case ph == "{production}" && production != "":
			case ph == "{production}":
				r.add(fp, "%q: {production} has no meaning here; this role serves the whole studio", v)
			default:
				r.add(fp, "%q: unknown placeholder %s; use {production} or {studio}", v, ph)
			}
		}
		if production == "*" {
			// The name's length is checked with each production's name.
			validatePerson(s, r, fp, strings.ReplaceAll(s.expand(v, ""), "{production}", "p"))
			continue
		}
		validatePerson(s, r, fp, s.expand(v, production))
	}
}

func validatePerson(s *Studio, r reporter, f Path, v string) {
	if name, ok := strings.CutPrefix(v, SSOPrefix); ok {
		switch {
		case placeholder.MatchString(name):
		case !permissionSet.MatchString(name):
			r.add(f, "%q: an Identity Center permission set name has letters, digits and +=,.@_- only", v)
		case len(name) > maxPermissionSetName:
			r.add(f, "%q: the permission set name is %d characters; Identity Center allows at most %d: name a shorter one here", v, len(name), maxPermissionSetName)
		}
		return
	}
	switch problem := managementRole(s, v, "people sign in"); {
	case !roleArn.MatchString(v):
		r.add(f, "%q is neither sso:<permission set> nor an IAM role ARN (arn:aws:iam::<account>:role/<name>); people are named exactly: no users, account roots or wildcards", v)
	case problem != "":
		r.add(f, "%s", problem)
	case strings.Contains(v, "/aws-reserved/"):
		r.add(f, "%q is an Identity Center role: write sso:<permission set> instead, which survives the role's reprovisioning", v)
	}
}
