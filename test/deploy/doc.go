// Package deploy holds renderenv's deployment test: the real pinned CDK CLI
// bootstraps five accounts and deploys into moto two estates made from the
// acme fixture (internal/fixtures): acme's logging, network, pool and one
// production stack of each tier, and beside them a studio without an
// organization (its logging, network and one production stack, each account
// with a trail of its own). The test reads back through the AWS API what the
// templates say exists. See deploy_test.go for what moto
// can and cannot show; run it with
//
//	go test ./test/deploy/
//
// It needs moto_server (moto 5.2.1: pip install 'moto[server]==5.2.1'),
// python3 with boto3, Node.js and npm, and the pinned CDK CLI (`make cli`).
// It skips only when moto_server is missing, and under -short; with
// RENDERENV_REQUIRE_MOTO=1, which .ci/run sets, a missing moto_server fails
// it instead.
package deploy
