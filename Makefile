# Switchyard — every entry point a newcomer or CI needs. `make run` and `make test` install what
# is missing (Debian packages, a local Python venv) before they build.
SHELL := /bin/bash
.DEFAULT_GOAL := help

SWIFT      ?= swift
ROUTES     ?= routes
LISTEN     ?= 127.0.0.1:8080
MOCK       ?= 127.0.0.1:9100
DATA       ?= var/data
APT_PKGS   := libjansson-dev libcurl4-openssl-dev liblmdb-dev pkg-config
VENV       := .venv
PY         := $(VENV)/bin/python
PY_PKGS    := openai==3.54.0 pytest==9.0.3

# A tenant build (ROUTES=path/to/dir) stages that folder inside the package and builds into its
# own scratch folder, so tenants never share build state and Package.swift is never edited.
ifeq ($(ROUTES),routes)
  SCRATCH    := .build
  ROUTES_ENV :=
else
  TENANT     := $(shell echo '$(abspath $(ROUTES))' | sha256sum | cut -c1-12)
  SCRATCH    := .build-tenant-$(TENANT)
  STAGED     := .tenant-routes/$(TENANT)
  ROUTES_ENV := SWITCHYARD_ROUTES_DIR=$(STAGED)
endif
BIN := $(SCRATCH)/debug

.PHONY: help deps venv build release check run test unit integration regen-test clean

help:
	@echo "make run     build and start the mock provider and the gateway with a demo key"
	@echo "make test    install what is missing, build, run every test"
	@echo "make check   validate routes/ (or ROUTES=dir) without building the gateway"
	@echo "make build   build the gateway (ROUTES=dir for a tenant's config)"

deps:
	@missing=""; for p in $(APT_PKGS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing >/dev/null; \
	fi

venv: $(VENV)/.installed
$(VENV)/.installed:
	@python3 -m venv $(VENV) 2>/dev/null || { SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get install -y -qq python3-venv >/dev/null && python3 -m venv $(VENV); }
	@$(VENV)/bin/pip install -q --disable-pip-version-check $(PY_PKGS)
	@touch $@

stage:
ifneq ($(ROUTES),routes)
	@test -d "$(ROUTES)" || { echo "error: ROUTES=$(ROUTES) is not a folder"; exit 1; }
	@mkdir -p $(STAGED)
	@cp routes/EmbeddedRoutes.swift $(STAGED)/
	@# Copy only changed files and drop removed ones, so the plugin sees real edits only.
	@for f in $(STAGED)/*.yaml $(STAGED)/*.yml; do [ -e "$$f" ] || continue; \
	  [ -e "$(ROUTES)/$$(basename $$f)" ] || rm -f "$$f"; done
	@for f in $(ROUTES)/*.yaml $(ROUTES)/*.yml; do [ -e "$$f" ] || continue; \
	  cmp -s "$$f" "$(STAGED)/$$(basename $$f)" || cp "$$f" $(STAGED)/; done
endif

build: deps stage
	$(ROUTES_ENV) $(SWIFT) build --scratch-path $(SCRATCH) --product switchyard
	$(ROUTES_ENV) $(SWIFT) build --scratch-path $(SCRATCH) --product switchyard-mock
	@echo "built $(BIN)/switchyard (config: $(ROUTES))"

release: deps stage
	$(ROUTES_ENV) $(SWIFT) build -c release --scratch-path $(SCRATCH) --product switchyard

check: deps
	@$(SWIFT) build --scratch-path .build-codegen --product switchyard-routegen >/dev/null
	@.build-codegen/debug/switchyard-routegen check $(ROUTES)

run: build
	@mkdir -p $(DATA)
	@$(BIN)/switchyard-mock --listen $(MOCK) & echo $$! > $(DATA)/mock.pid
	@sleep 0.3
	@key=$$($(BIN)/switchyard keys create --plan free --name demo --data $(DATA)); \
	echo; echo "Demo key: $$key"; echo "Try:"; \
	echo "  curl -s http://$(LISTEN)/v1/chat/completions -H 'Authorization: Bearer $$key' -H 'Content-Type: application/json' -d '{\"model\":\"mock-gpt\",\"messages\":[{\"role\":\"user\",\"content\":\"Hello\"}]}'"; \
	echo "  (add \"stream\":true and curl -N to stream; Ctrl-C stops both servers)"; echo
	@trap 'kill $$(cat $(DATA)/mock.pid) 2>/dev/null' EXIT INT TERM; \
	SWITCHYARD_MOCK_BASE_URL=http://$(MOCK)/v1 $(BIN)/switchyard serve --listen $(LISTEN) --data $(DATA)

test: deps venv
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build
	$(PY) -m pytest -q Tests/integration
	bash Tests/build/regenerate.sh

clean:
	rm -rf .build .build-* .tenant-routes $(VENV) var

# Benchmarks (bench/, results in BENCHMARKS.md); `make test` never runs them.
# make bench [LEAK_REQUESTS=N LEAK_SECONDS=S]   Switchyard vs direct, nginx and LiteLLM (~6-8 min)
# make bench-check [UPDATE=1] [PROFILE=1]        instructions per request under callgrind vs the baseline
BENCH_BUILD = $(SWIFT) build -c release --product switchyard && $(SWIFT) build -c release --product switchyard-unmetered && $(SWIFT) build -c release --product switchyard-relay-floor && $(SWIFT) build -c release --product switchyard-nio-upstream && $(SWIFT) build -c release --product switchyard-mock
BENCH_APT = for p in $(1); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then echo "installing:$$missing"; SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing >/dev/null; fi

.PHONY: bench bench-check
bench: deps
	@$(call BENCH_APT,wrk nginx-light)
	$(BENCH_BUILD)
	python3 bench/run.py $(if $(LEAK_REQUESTS),--leak-requests $(LEAK_REQUESTS)) $(if $(LEAK_SECONDS),--leak-seconds $(LEAK_SECONDS))

bench-check: deps
	@$(call BENCH_APT,valgrind)
	$(BENCH_BUILD)
	python3 bench/check.py $(if $(filter 1,$(UPDATE)),--update) $(if $(filter 1,$(PROFILE)),--profile)
