// Package deploy holds renderenv's deployment test: the real pinned CDK CLI
// bootstraps five accounts and deploys the logging, network, pool and one
// production stack of each tier into moto, and the test reads back through
// the AWS API what the templates say exists. See deploy_test.go for what moto
// can and cannot show; run it with
//
//	go test ./test/deploy/
//
// It needs moto_server (moto 5), python3 with boto3, Node.js and npm, and the
// pinned CDK CLI (`make cli`). It skips only when moto_server is missing, and
// under -short.
package deploy
