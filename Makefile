# Switchboard. `make run` serves a development instance, `make test` runs every test.
.PHONY: run test generate check-generated lint build bench docs-vendor

GO ?= go

run:
	APP_ENV=development $(GO) run ./cmd/switchboard dev

test:
	$(GO) test -count=1 ./...

build:
	$(GO) build -o bin/switchboard ./cmd/switchboard

# Regenerates the sqlc query package and the OpenAPI server from their sources.
generate:
	$(GO) tool sqlc generate
	cd api && $(GO) tool oapi-codegen -config oapi-codegen.yaml ../openapi.yaml

# Fails when generated code is not what its sources produce (stale or edited by hand).
check-generated: generate
	@git diff --exit-code -- api db/dbsqlc || { echo "generated code is stale: run 'make generate' and commit"; exit 1; }
	@test -z "$$(git status --porcelain -- api db/dbsqlc)" || { git status --porcelain -- api db/dbsqlc; echo "generated files are not committed"; exit 1; }

# Lints the contract with Redocly (recommended rules) and Spectral (spectral:oas); both
# come from the npm registry at pinned versions. Warnings are printed, errors fail.
REDOCLY  = npx --yes @redocly/cli@2.77.0
SPECTRAL = npx --yes @stoplight/spectral-cli@6.16.3
lint:
	$(REDOCLY) lint --extends=recommended --format=stylish openapi.yaml
	$(SPECTRAL) lint --fail-severity=error --ruleset .spectral.yaml openapi.yaml

# Fetches Redoc's standalone bundle from the npm registry into the binary's docs page.
REDOC_VERSION = 3.0.1
docs-vendor:
	rm -rf /tmp/switchboard-redoc && mkdir -p /tmp/switchboard-redoc
	cd /tmp/switchboard-redoc && npm pack --silent redoc@$(REDOC_VERSION) && tar xzf redoc-$(REDOC_VERSION).tgz
	gzip -9nc /tmp/switchboard-redoc/package/bundles/redoc.standalone.js > internal/httpapi/docs/redoc.standalone.js.gz

# Measures the service against the floor on this machine and prints one table; see
# docs/benchmarks.md. BENCH_FLAGS="-sizes 100000,10000000" adds the 10 M table.
BENCH_FLAGS ?=
bench:
	@command -v wrk >/dev/null || { echo "installing wrk (Debian's package), which drives the reads"; apt-get install -y wrk; }
	$(GO) run ./internal/bench $(BENCH_FLAGS)
