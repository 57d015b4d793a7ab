// Package test holds the end-to-end checks of renderenv: golden snapshots of
// every synthesized template, the rule set (internal/rules) over the acme,
// generated and studio-shape estates with a fault injected for each
// invariant, what only the manifests can say (every production built,
// every account trailed) and CloudFormation's quotas, and the Transit
// Gateway reachability proof (ISE 2.2), all read through internal/cfn. Everything is in _test.go files; run it with
//
//	go test ./test/...            # check
//	go test ./test/ -run Snapshot -update   # rewrite the golden files after review
package test
