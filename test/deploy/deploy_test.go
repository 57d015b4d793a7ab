package deploy

// The deployment test ("Proof"). It starts moto, bootstraps every account of
// the deployed stacks with the real pinned CDK CLI and renderenv's bootstrap
// template, with the arguments `renderenv bootstrap` prints (the deploy
// roles trusting acme's deployers in the management account, CloudFormation
// deploying with the generated execution policy), synthesizes three
// estates made from the acme fixture (internal/fixtures), deploys from the
// management account
//
//	acme-logging, acme-network,
//	acme-nightfall (Tier 1, with ingest and two vendors), its DR stack
//	acme-nightfall-dr (in us-east-2) and exchange stack
//	acme-nightfall-exchange (in the exchange account), acme-harbour (Tier 2),
//	acme-pool-555555555555 with acme-brightside (Tier 3, pooled) and
//	acme-lighthouse (Tier 3, its own VPC and keys),
//
// and, into the same accounts, the studio "solo": acme without an
// organization, so with the management account's own trail in solo-network,
// the Transit Gateway shared with each production account by id, and the
// production's own trail in solo-nightfall, and the exchange account's own
// trail in solo-nightfall-exchange,
//
//	solo-logging, solo-network, solo-nightfall, solo-nightfall-dr,
//	solo-nightfall-exchange,
//
// and the studio "mono": no organization and no log-archive account, so the
// central trail is the management account's own and harbour's account runs
// its own,
//
//	mono-logging, mono-network, mono-harbour,
//
// and then reads back through the AWS API (testdata/inventory.py) what the
// templates say exists, plus the security properties that must hold whatever
// the templates say (assert_test.go).
//
// What moto (5.2) cannot do, and so what this test does not show:
//
//   - It creates only, once. Moto's stack update and delete are broken, and it
//     has no UpdateTerminationProtection, which `cdk deploy`'s change-set
//     method calls between creating and executing the change set of a
//     termination-protected stack: so stacks are created with
//     `--method=direct` (CreateStack with termination protection), the CDK's
//     other real deployment method.
//   - Its CloudFormation skips these resource types entirely (motoSkips in
//     assert_test.go; the test fails when the list stops being true): network
//     ACLs, their entries and subnet associations; Transit Gateway
//     attachments, route table associations and propagations; the RAM share;
//     CloudTrail trails; bucket policies; stand-alone security group egress
//     rules; CloudWatch alarms and metric filters; SNS subscriptions and topic
//     policies; the Route 53 Resolver DNS Firewall and query logging
//     resources. So no network ACL, Transit Gateway routing, trail, bucket
//     policy or DNS Firewall is shown here (test/ checks them in the
//     templates).
//   - Of the resources it creates it drops some properties: a security
//     group's own egress rules (it keeps the default allow-all egress), a
//     bucket's versioning, public access block, lifecycle and logging, and an
//     endpoint's policy (stored unparsed). None of these is asserted. It also
//     applies a stack's own tags over its EC2 resources' tags (CloudFormation
//     keeps the resource's, we believe), so where the stack sets a key too,
//     either value is accepted. (It also fails on a Transit Gateway without a
//     Description; the network stack's has one.)
//   - Its CloudFormation attaches no ManagedPolicyArns to a role, so the
//     bootstrap's execution role shows no policy here: the test checks that
//     the bootstrap created the execution policy and the boundary, and that
//     the role and the estate's roles carry the boundary
//     (internal/bootstrap checks the attachment in the template). Moto does
//     not evaluate IAM either, so the deployers' trust and the execution
//     policy's scope are not exercised (test/ evaluates them).
//   - Its CloudFormation creates no VPN connection or customer gateway, so the
//     network stack's look-up of the VPN's Transit Gateway attachment finds
//     nothing (and CloudFormation would fail it): the test estate has no VPN.
//   - It has no AWS RAM: the management account's Transit Gateway is invisible
//     in production accounts, so the deploy-time look-up of it cannot succeed
//     there, and routes to it from another account keep their destination but
//     lose their target. The test estate pins `transitGatewayId`.
//   - The link stacks are not deployed: they read the production's attachment
//     ids, which moto never creates.
//   - It runs Lambda functions only in Docker; without it, every stack with a
//     Lambda-backed custom resource stays CREATE_IN_PROGRESS for ever (moto
//     logs "error running docker" and never answers). Those are the CDK's
//     Custom::VpcRestrictDefaultSG (network, pool and every dedicated
//     production VPC) and its AwsCustomResource look-ups (S3 prefix list in
//     every production, the Transit Gateway unless pinned, the VPN
//     attachment). They run in testdata/moto/server.py's Node.js Lambda
//     runtime instead: the CDK's own handler code, as `cdk deploy` uploaded
//     it, with the AWS SDK that the Lambda runtime provides
//     (testdata/moto/package-lock.json), against moto, in the function's
//     account. server.py lists the moto bugs it also works around; none of
//     them invents a resource.
//
// The test estates are the acme fixture with the two changes above, made in
// testManifests; productions/ is the studio's and is not read here.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/renderenv/renderenv/internal/bootstrap"
	"github.com/renderenv/renderenv/internal/fixtures"
	"github.com/renderenv/renderenv/internal/manifest"
)

const (
	// deadline bounds the whole test, which takes about two minutes on two
	// shared cores.
	deadline = 8 * time.Minute
	region   = "us-west-2"
	// drRegion is nightfall's ingest.drRegion, where its DR stack deploys.
	drRegion = "us-east-2"
	// pinnedTransitGateway is the test estate's transitGatewayId.
	pinnedTransitGateway = "tgw-0123456789abcdef0"
)

// testEstate is one estate the test synthesizes and deploys.
type testEstate struct {
	// studio renames the acme fixture's studio: the estates share the
	// accounts, and every name they create there starts with the studio.
	studio string
	// withoutOrganization drops organizationId (and its management account).
	withoutOrganization bool
	// withoutLogArchive drops logArchiveAccount: the logging stack goes to
	// the management account, whose activity its own central trail records.
	withoutLogArchive bool
	// only is the productions synthesized (CDK context only), all when empty.
	only string
	// workers, when more than 1, synthesizes the estate in that many worker
	// processes (CDK context workers): the CLI deploys the merged assembly.
	workers int
	// stacks are the stacks deployed, in no particular order: the CLI orders
	// them by their dependencies.
	stacks []string
}

var testEstates = []testEstate{
	{studio: "acme", workers: 2, stacks: []string{
		"acme-logging",
		"acme-network",
		"acme-nightfall",
		"acme-nightfall-dr",
		"acme-nightfall-exchange",
		"acme-harbour",
		"acme-pool-555555555555",
		"acme-brightside",
		"acme-lighthouse",
	}},
	// One production is enough to show a production account's own trail;
	// the network stack still shares the Transit Gateway with every
	// production account of the manifests.
	{studio: "solo", withoutOrganization: true, only: "nightfall", stacks: []string{
		"solo-logging",
		"solo-network",
		"solo-nightfall",
		"solo-nightfall-dr",
		"solo-nightfall-exchange",
	}},
	// The smallest studio: no organization and no log-archive account, so
	// the central trail is the management account's own and a production
	// in a shared account runs its own.
	{studio: "mono", withoutOrganization: true, withoutLogArchive: true, only: "harbour", stacks: []string{
		"mono-logging",
		"mono-network",
		"mono-harbour",
	}},
}

var (
	root     = mustAbs("../..")
	testdata = mustAbs("testdata")
	cdkCLI   = filepath.Join(root, "node_modules", ".bin", "cdk")
)

func mustAbs(p string) string {
	a, err := filepath.Abs(p)
	if err != nil {
		panic(err)
	}
	return a
}

func TestEstateDeploysToMoto(t *testing.T) {
	if testing.Short() {
		t.Skip("deploys into moto with the CDK CLI; not with -short")
	}
	requirePrerequisites(t)

	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	step := func(what string, err error) {
		t.Helper()
		if err != nil {
			if ctx.Err() != nil {
				t.Fatalf("%s: the test's %s deadline passed: %v", what, deadline, err)
			}
			t.Fatalf("%s: %v", what, err)
		}
		t.Logf("%6.1fs  %s", time.Since(start).Seconds(), what)
	}
	tmp := t.TempDir()
	assembly := func(e testEstate) string { return filepath.Join(tmp, e.studio+".out") }
	lambdaRuntime := filepath.Join(tmp, "lambda-runtime")

	// The synthesis (Go, jsii, cdk-nag) takes most of the time: moto starts
	// and the Lambda runtime's SDK is installed meanwhile.
	synthesized, synthDone := make(chan error, 1), make(chan struct{})
	t.Cleanup(func() { cancel(); <-synthDone }) // before the temporary folder goes
	go func() {
		defer close(synthDone)
		for _, e := range testEstates {
			if err := synthesize(ctx, tmp, e, assembly(e)); err != nil {
				synthesized <- fmt.Errorf("%s: %w", e.studio, err)
				return
			}
		}
		synthesized <- nil
	}()

	step("install the Lambda runtime's AWS SDK (testdata/moto/package-lock.json)", installLambdaRuntime(ctx, tmp, lambdaRuntime))
	m := startMoto(ctx, t, tmp, filepath.Join(lambdaRuntime, "node_modules"), region)
	step("start moto on "+m.endpoint, nil)

	// Every account is entered with STS; the management account deploys.
	accounts := []string{"111111111111", "222222222222", "333333333333", "444444444444", "555555555555", "121212121212"}
	const management = "111111111111"
	creds := map[string]credentials{}
	for _, a := range accounts {
		c, err := m.assumeRole(ctx, a)
		step("enter account "+a, err)
		creds[a] = c
	}
	step(fmt.Sprintf("synthesize the %d test estates", len(testEstates)), <-synthesized)

	// renderenv bootstrap of each studio: its template and the commands it
	// prints, run for every account and region of the studio's estate. Each
	// studio has its own qualifier and bootstrap stack in the accounts they
	// share. (Moto does not evaluate IAM: the deployers' trust and the
	// execution policy's scope are not exercised here.)
	bootstrapped := map[string][]bootstrap.Env{}
	for _, e := range testEstates {
		est, errs := manifest.LoadDir(filepath.Join(tmp, e.studio+"-manifests"))
		if len(errs) > 0 {
			t.Fatal(errs)
		}
		bo := bootstrap.OptionsOf(est)
		tpl := filepath.Join(tmp, e.studio+"-"+bootstrap.TemplateFile)
		body, err := bootstrap.Template(bo)
		if err == nil {
			err = os.WriteFile(tpl, body, 0o644)
		}
		step("write "+e.studio+"'s bootstrap template", err)
		var bootstraps []func() error
		for _, env := range bootstrap.Envs(est) {
			if _, ok := creds[env.Account]; !ok || (env.Region != region && env.Region != drRegion) {
				t.Fatalf("%s: %s is not an account of the test", e.studio, env)
			}
			bootstraps = append(bootstraps, func() error {
				argv := bootstrap.Command(bo, env, tpl)
				if !slices.Equal(argv[:3], []string{"npx", "cdk", "bootstrap"}) {
					return fmt.Errorf("not a cdk bootstrap: %v", argv)
				}
				// --app: without an app the CLI synthesizes cdk.json's app, for
				// nothing (the environments are given).
				args := append([]string{"bootstrap", "--app", assembly(e), "--no-notices"}, argv[3:]...)
				return run(ctx, root, cliEnv(m.env(creds[env.Account])), filepath.Join(tmp, "bootstrap-"+e.studio+"-"+env.Account+".log"), cdkCLI, args...)
			})
		}
		bootstrapped[e.studio] = bootstrap.Envs(est)
		step(fmt.Sprintf("bootstrap %s's %d accounts (qualifier %s), trusting %v", e.studio, len(bootstraps), bo.Qualifier, bootstrap.Trust(bo)), parallel(bootstraps...))
	}

	var asm []*stack
	for _, e := range testEstates {
		stacks, err := readAssembly(assembly(e), e.studio, e.stacks)
		step("read the cloud assembly of "+e.studio, err)
		asm = append(asm, stacks...)
	}
	for _, s := range asm {
		if _, ok := creds[s.Account]; !ok {
			t.Fatalf("stack %s is in account %s, which the test does not bootstrap", s.Name, s.Account)
		}
	}
	// What the estates are for: the test fails if an estate stops having the
	// shape it is meant to deploy.
	checkShapes(t, asm)
	step("store the render AMIs in SSM", putRenderImages(ctx, m, creds, asm))

	// The estates deploy side by side, each with its own CLI.
	var deploys []func() error
	for _, e := range testEstates {
		deploys = append(deploys, func() error {
			args := append([]string{"deploy", "--app", assembly(e), "--require-approval", "never", "--method", "direct",
				"--concurrency", "4", "--no-notices", "--progress", "events"}, e.stacks...)
			err := run(ctx, root, cliEnv(m.env(creds[management])), filepath.Join(tmp, "deploy-"+e.studio+".log"), cdkCLI, args...)
			if err != nil {
				return fmt.Errorf("%s: %w", e.studio, err)
			}
			return nil
		})
	}
	var names []string
	for _, e := range testEstates {
		names = append(names, e.stacks...)
	}
	step("cdk deploy "+fmt.Sprint(names), parallel(deploys...))

	// A merged assembly of a sharded synthesis is the CLI's as any other:
	// it diffs one production against what is deployed and redeploys it
	// alone.
	for _, e := range testEstates {
		if e.workers < 2 {
			continue
		}
		one := e.studio + "-nightfall"
		env := cliEnv(m.env(creds[management]))
		step("cdk diff "+one+" of "+e.studio+"'s merged assembly",
			run(ctx, root, env, filepath.Join(tmp, "diff-"+e.studio+".log"), cdkCLI, "diff", "--app", assembly(e), "--no-change-set", "--no-notices", one))
		step("cdk deploy --exclusively "+one+" of "+e.studio+"'s merged assembly",
			run(ctx, root, env, filepath.Join(tmp, "redeploy-"+e.studio+".log"), cdkCLI, "deploy", "--app", assembly(e), "--exclusively",
				"--require-approval", "never", "--method", "direct", "--no-notices", one))
	}

	inv, err := readInventory(ctx, m, tmp, append(slices.Clone(accounts), inventoryKey("333333333333", drRegion)))
	step("read back every account through the AWS API", err)

	for _, e := range testEstates {
		for _, env := range bootstrapped[e.studio] {
			t.Run("bootstrap-"+e.studio+"-"+inventoryKey(env.Account, env.Region), func(t *testing.T) {
				checkBootstrap(t, e.studio, env.Account, env.Region, inv[inventoryKey(env.Account, env.Region)])
			})
		}
	}
	for _, s := range asm {
		t.Run(s.Name, func(t *testing.T) { checkStack(t, s, inv[inventoryKey(s.Account, s.Region)]) })
	}
}

// cliEnv is the environment of the CDK CLI: quiet, and offline but for moto.
func cliEnv(env []string) []string {
	if env == nil {
		for _, kv := range os.Environ() {
			if len(kv) < 4 || kv[:4] != "AWS_" {
				env = append(env, kv)
			}
		}
	}
	return append(env,
		"JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION=20",
		"CDK_DISABLE_VERSION_CHECK=true",
		"CDK_DISABLE_CLI_TELEMETRY=true",
	)
}

// synthesize writes e's manifests and synthesizes them into assembly with
// the pinned CLI, as a studio does.
func synthesize(ctx context.Context, tmp string, e testEstate, assembly string) error {
	manifests := filepath.Join(tmp, e.studio+"-manifests")
	if err := testManifests(manifests, e); err != nil {
		return err
	}
	args := []string{"synth", "--quiet", "--no-notices", "--output", assembly, "--context", "manifests=" + manifests}
	if e.only != "" {
		args = append(args, "--context", "only="+e.only)
	}
	if e.workers > 1 {
		args = append(args, "--context", fmt.Sprintf("workers=%d", e.workers))
	}
	return run(ctx, root, cliEnv(nil), filepath.Join(tmp, "synth-"+e.studio+".log"), cdkCLI, args...)
}

// testManifests writes the test estate e into dir: the acme fixture's
// manifests, with the studio renamed, the Transit Gateway pinned and without
// the VPN (see the top of this file for why moto needs both), and without
// the organization when e asks.
func testManifests(dir string, e testEstate) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for name, b := range fixtures.AcmeFiles() {
		if name == "studio.yaml" {
			var err error
			if b, err = pinStudio(b, e); err != nil {
				return fmt.Errorf("%s: %w", name, err)
			}
		}
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			return err
		}
	}
	return nil
}

func pinStudio(b []byte, e testEstate) ([]byte, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return nil, err
	}
	if len(doc.Content) != 1 || doc.Content[0].Kind != yaml.MappingNode {
		return nil, errors.New("not a YAML mapping")
	}
	studio := doc.Content[0]
	name := mappingValue(studio, "studio")
	if name == nil {
		return nil, errors.New("no studio name")
	}
	name.Value = e.studio
	if onPrem := mappingValue(studio, "onPremises"); onPrem != nil {
		deleteKey(onPrem, "vpn")
	}
	if e.withoutOrganization {
		deleteKey(studio, "organizationId")
		deleteKey(studio, "organizationManagementAccount")
	}
	if e.withoutLogArchive {
		deleteKey(studio, "logArchiveAccount")
	}
	deleteKey(studio, "transitGatewayId")
	studio.Content = append(studio.Content,
		&yaml.Node{Kind: yaml.ScalarNode, Value: "transitGatewayId"},
		&yaml.Node{Kind: yaml.ScalarNode, Value: pinnedTransitGateway})
	var out bytes.Buffer
	enc := yaml.NewEncoder(&out)
	enc.SetIndent(2)
	if err := enc.Encode(&doc); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

func mappingValue(m *yaml.Node, key string) *yaml.Node {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

func deleteKey(m *yaml.Node, key string) {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			m.Content = slices.Delete(m.Content, i, i+2)
			return
		}
	}
}

// installLambdaRuntime installs, from its lock file, the AWS SDK that the
// Lambda Node.js runtime gives the CDK's custom-resource handlers.
func installLambdaRuntime(ctx context.Context, tmp, dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for _, f := range []string{"package.json", "package-lock.json"} {
		b, err := os.ReadFile(filepath.Join(testdata, "moto", f))
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, f), b, 0o644); err != nil {
			return err
		}
	}
	return run(ctx, dir, os.Environ(), filepath.Join(tmp, "npm.log"),
		"npm", "ci", "--no-audit", "--no-fund", "--loglevel=error")
}

// putRenderImages stores an AMI under every SSM parameter that a deployed
// stack resolves at deploy time and no deployed stack publishes: the
// studio's render AMIs (render.ami: ssm:/...).
func putRenderImages(ctx context.Context, m *moto, creds map[string]credentials, asm []*stack) error {
	published := map[string]bool{}
	for _, s := range asm {
		for _, r := range s.Resources {
			if r.Type == "AWS::SSM::Parameter" {
				if name, ok := r.Properties["Name"].(string); ok {
					published[s.Account+name] = true
				}
			}
		}
	}
	images := map[string]string{}
	for _, s := range asm {
		for _, p := range s.Parameters {
			name, ok := p.Default.(string)
			if !ok || p.Type != "AWS::SSM::Parameter::Value<AWS::EC2::Image::Id>" || published[s.Account+name] {
				continue
			}
			published[s.Account+name] = true // once per account
			c := creds[s.Account]
			if images[s.Account] == "" {
				image, err := m.anImage(ctx, c)
				if err != nil {
					return err
				}
				images[s.Account] = image
			}
			if err := m.putImageParameter(ctx, c, name, images[s.Account]); err != nil {
				return fmt.Errorf("%s: %w", s.Name, err)
			}
		}
	}
	return nil
}

// readInventory runs testdata/inventory.py over the accounts.
// inventoryKey is how inventory.py names an account in a region: the
// account alone in the test's region, account:region in another.
func inventoryKey(account, r string) string {
	if r == region {
		return account
	}
	return account + ":" + r
}

func readInventory(ctx context.Context, m *moto, tmp string, accounts []string) (inventory, error) {
	out := filepath.Join(tmp, "inventory.json")
	f, err := os.Create(out)
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, "python3", append([]string{filepath.Join(testdata, "inventory.py"), m.endpoint, m.region}, accounts...)...)
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = f, &stderr
	err = cmd.Run()
	f.Close()
	if err != nil {
		return nil, fmt.Errorf("inventory.py: %w\n%s", err, stderr.String())
	}
	b, err := os.ReadFile(out)
	if err != nil {
		return nil, err
	}
	var inv inventory
	if err := json.Unmarshal(b, &inv); err != nil {
		return nil, fmt.Errorf("inventory.py's output: %w", err)
	}
	return inv, nil
}
