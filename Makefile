# renderenv: the two commands a new machine needs are `make synth` and
# `make test`. Both install the pinned CDK CLI (package-lock.json) first.

# Node 20 still runs jsii correctly; the banner would drown real output.
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20

PKGS := ./bin/... ./constructs/... ./internal/... ./productions/... ./test/...
CDK  := node_modules/.bin/cdk

.PHONY: synth test access lint bench validate vet fmt-check cli clean

# Synthesize the shipped example estate (or MANIFESTS=dir) into cdk.out/.
synth: $(CDK)
	$(CDK) synth -q $(if $(MANIFESTS),-c manifests=$(MANIFESTS)) $(if $(ONLY),-c only=$(ONLY))

# Run every check: formatting, vet, unit, construct, snapshot and invariant tests.
test: $(CDK) fmt-check vet
	@command -v cfn-lint >/dev/null 2>&1 || echo "make: cfn-lint not found (pip install cfn-lint==1.51.0): test/lint skips its cfn-lint checks"
	@command -v moto_server >/dev/null 2>&1 || echo "make: moto_server not found (pip install 'moto[server]==5.2.1'): test/deploy skips"
	go test -count=1 -timeout 20m $(PKGS)

# The access matrix of the acme and a generated estate, decided by the pinned
# IAM evaluator in test/access/evaluator (the test installs it with npm ci);
# part of `test`. Writes test/out/access/<estate>/<stack>.access.md and .json.
access: $(CDK)
	go test -count=1 -v -run 'TestAccessMatrix' ./test/

# cfn-lint (with the invariant rules) and the Control Tower controls
# (cfn-guard) over every template of the shipped estate; part of `test`.
lint: $(CDK)
	go test -count=1 -v ./test/lint/

# The scale benchmark behind the README's performance table: synthesis of
# generated estates of 1, 50, 200 and 500 productions (Go and the native
# TypeScript reference app), selective synthesis, validation of 1,000
# manifests and peak memory, in one process and in 2 workers. Takes about
# 10 minutes on 2 CPUs.
bench: $(CDK)
	go run ./test/bench $(BENCHFLAGS)

# Check a manifest folder without Node.js: make validate MANIFESTS=dir
validate:
	go run ./bin/renderenv validate $(MANIFESTS)

vet:
	go vet $(PKGS)

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find bin constructs internal productions test -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

cli: $(CDK)

# The CLI's package ships Go template files; a go.mod beside them makes them
# a module of their own, so ./... never reaches into node_modules.
$(CDK): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	echo 'module nodemodules' > node_modules/go.mod
	touch $(CDK)

clean:
	rm -rf cdk.out
