// Package test holds the end-to-end checks of renderenv: golden snapshots of
// every synthesized template, the security invariants of DESIGN.md read from
// the CloudFormation JSON alone, and the Transit Gateway reachability proof
// (ISE 2.2). Everything is in _test.go files; run it with
//
//	go test ./test/...            # check
//	go test ./test/ -run Snapshot -update   # rewrite the golden files after review
package test
