# Parley: `make up` brings the whole platform up, `make test` runs every test.
PY := .venv/bin/python
VENV := .venv/.installed
WIDGET := chatplugin/widget/dist/s.js
WIDGET_SOURCES := $(wildcard chatplugin/widget/src/*.ts) chatplugin/widget/package-lock.json chatplugin/widget/tsconfig.json
DOCS := envoy/docs/node_modules/swagger-ui-dist/swagger-ui-bundle.js
SDK_TS_MODULES := sdk-ts/node_modules/.package-lock.json
SDK_TS := sdk-ts/dist/src/index.js
SDK_TS_SOURCES := $(wildcard sdk-ts/src/*.ts sdk-ts/src/gen/*/*/*.ts sdk-ts/test/*.ts \
	sdk-ts/examples/*.ts sdk-ts/examples/browser/*) sdk-ts/tsconfig.json
INBOX := inbox/dist/assets/app.js
INBOX_SOURCES := $(wildcard inbox/src/*.ts inbox/src/*.tsx inbox/src/*.css inbox/src/*/*.tsx \
	inbox/test/*.ts) inbox/index.html inbox/package-lock.json inbox/tsconfig.json inbox/vite.config.ts
#: What Envoy serves from files: the chat plugin widget, the API reference, the web app.
SERVED := $(WIDGET) $(DOCS) $(INBOX)

#: The suites `make test` runs a second time on a Redis Cluster.
CLUSTER_SUITE := $(addprefix tests/integration/,test_store_consistency.py test_store_commands.py \
	test_filters.py test_messages_list.py test_contacts.py test_projectors.py test_events.py \
	test_webhooks.py test_send_claims.py)

.PHONY: up down status cluster cluster-down cluster-status chaos redis-cluster proto lint breaking settings-doc test bench clean widget docs sdk-ts inbox

$(VENV): requirements.lock pyproject.toml sdk/pyproject.toml scripts/bootstrap.sh
	bash scripts/bootstrap.sh

## widget: build the chat plugin widget (npm: TypeScript checked, bundled by esbuild)
widget: $(WIDGET)

$(WIDGET): $(WIDGET_SOURCES)
	cd chatplugin/widget && npm ci --no-audit --no-fund --loglevel=error && npm run --silent check && npm run --silent build

## docs: install the API reference's Swagger UI (npm), which Envoy serves at /docs
docs: $(DOCS)

$(DOCS): envoy/docs/package-lock.json
	cd envoy/docs && npm ci --no-audit --no-fund --loglevel=error
	touch $(DOCS)

## inbox: build the web app Envoy serves at /ui, the Inbox and the Control Center (npm: React,
## Vite; on the TypeScript SDK), and type-check it
inbox: $(INBOX)

$(INBOX): $(SDK_TS) $(INBOX_SOURCES)
	cd inbox && npm ci --no-audit --no-fund --loglevel=error && npm run --silent check && npm run --silent build
	touch $(INBOX)

## sdk-ts: build the TypeScript SDK, its Node tests and its examples (npm; tsc, esbuild)
sdk-ts: $(SDK_TS)

$(SDK_TS_MODULES): sdk-ts/package-lock.json
	cd sdk-ts && npm ci --no-audit --no-fund --loglevel=error

$(SDK_TS): $(SDK_TS_MODULES) $(SDK_TS_SOURCES)
	cd sdk-ts && npm run --silent build && npm run --silent example
	touch $(SDK_TS)

## up: start Kafka, Redis, the services, the projectors and Envoy (idempotent); returns once all are healthy
up: $(VENV) $(SERVED)
	$(PY) -m stack up

## down: stop exactly what `make up` started
down:
	@if [ -x $(PY) ]; then $(PY) -m stack down; fi

## status: show each component
status: $(VENV)
	$(PY) -m stack status

## cluster: Parley as a mesh on this machine: three Kafka nodes, a Redis Cluster with replicas, two
## replicas of every service on 127.0.0.2 and 127.0.0.3, Envoy over them on 127.0.0.1:8080
cluster: $(VENV) $(SERVED)
	$(PY) -m stack cluster up

## cluster-down: stop exactly what `make cluster` started
cluster-down:
	@if [ -x $(PY) ]; then $(PY) -m stack cluster down; fi

## cluster-status: each process of the cluster as JSON (name, kind, pid, address)
cluster-status: $(VENV)
	@$(PY) -m stack cluster status

## chaos: the fault suite: a cluster of its own under a steady load, one Kafka node, one Redis
## primary and one replica of each service killed and brought back; prints what it measured
chaos: $(VENV) $(SERVED)
	$(PY) -m chaos

## redis-cluster: start a local Redis Cluster (3 primaries, ports 7000-7002) for PARLEY_REDIS_CLUSTER_NODES
redis-cluster: $(VENV)
	$(PY) -m stack redis-cluster up

## proto: regenerate the SDKs' code (Python, TypeScript), Envoy's descriptor set and the OpenAPI
## document from proto/, and the Python SDK's blocking client
proto: $(VENV) $(SDK_TS_MODULES)
	bash scripts/gen_proto.sh .
	$(PY) scripts/unasync.py

## lint: buf lint over the contracts, ruff and mypy over the Python
lint: $(VENV)
	bash scripts/buf.sh lint
	.venv/bin/ruff check .
	.venv/bin/mypy

## breaking: buf breaking of the working tree's contracts against main's
breaking: $(VENV)
	bash scripts/buf.sh breaking

## settings-doc: rewrite README's table of settings from their declarations (runtime.settings_table)
settings-doc: $(VENV)
	$(PY) -m runtime.settings_table --write

## test: every test (unit, contracts, integration and end-to-end against the real stack) on a
## single Redis; then the store, filter, realtime and webhook suites again on a Redis Cluster of
## three primaries (a stack of its own, ports 500 above)
test: $(VENV) $(SERVED) $(SDK_TS)
	$(PY) -m pytest
	PARLEY_TEST_REDIS_CLUSTER=1 PARLEY_TEST_PORT_OFFSET=$$(( $${PARLEY_TEST_PORT_OFFSET:-0} + 500 )) \
		$(PY) -m pytest $(CLUSTER_SUITE)

## bench: measure ingestion, reads and memory on a single Redis and on a local Redis Cluster (stacks of its own), print the figures
bench: $(VENV) $(SERVED)
	$(PY) -m bench

clean: down
	rm -rf .data
