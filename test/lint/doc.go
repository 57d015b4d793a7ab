// Package lint checks every template of the acme fixture estate
// (internal/fixtures) with two external linters, so that a reviewer does not
// have to trust renderenv's own tests alone:
//
//   - cfn-lint (pip install cfn-lint) with the repository's .cfnlintrc.yaml:
//     the CloudFormation resource schemas and best practices. The security
//     invariants of DESIGN.md are the rule set's (internal/rules), which
//     test/ runs on the same estate.
//   - the AWS Control Tower proactive controls as cfn-guard rules, from the
//     pinned npm package @cdklabs/cdk-validator-cfnguard (its static
//     cfn-guard binary and rules run offline). A failure is either fixed in
//     the product or listed with its reason in guard-exemptions.yaml; an
//     exemption that no longer matches a failure is an error too.
//
// The estate is synthesized once per test binary. When cfn-lint or the
// cfn-guard package is missing the tests skip and say why (go test -v shows
// it); set RENDERENV_REQUIRE_LINT=1, as CI should, to make that a failure.
//
//	go test ./test/lint/ -v
package lint
