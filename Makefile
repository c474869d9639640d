# vdp-agent: the two commands of the README are `make demo` (the main job) and `make test`.
# Both set up a fresh machine first: Debian packages, npm dependencies (native addons built against the
# system Node headers), TypeScript build. Setup steps are stamped so repeated runs are quick.

# dpkg-dev, debhelper, fakeroot, lintian, go-md2man, man-db: `make deb` (man pages from the oclif manifest and the
# config schema); systemd (systemd-analyze) and python3-seccomp: the package's and the unit sandbox's tests;
# tshark: the ECP header oracle of `vdp decode`'s tests; openvswitch-switch and iputils-ping: the OVS dataplane's
# tests (a private userspace OVS per test) and the demo's ping.
DEBIAN_PACKAGES := iproute2 lldpd lldpad tcpdump dpkg-dev debhelper fakeroot lintian go-md2man man-db systemd python3-seccomp tshark \
  openvswitch-switch iputils-ping rabbitmq-server python3-oslo.messaging
# rabbitmq-server, python3-oslo.messaging: the controller tests, bench/rpc and `make demo-controller`.
STAMPS := .stamps

.PHONY: setup build lint format test test-unit demo demo-controller run clean deb

setup: $(STAMPS)/debs $(STAMPS)/npm build

$(STAMPS)/debs: Makefile scripts/install-debs.sh
	scripts/install-debs.sh $(DEBIAN_PACKAGES)
	@mkdir -p $(STAMPS) && touch $@

$(STAMPS)/npm: package.json package-lock.json
	npm_config_nodedir=/usr npm ci --no-audit --no-fund
	@mkdir -p $(STAMPS) && touch $@

build: $(STAMPS)/npm
	npm run build --silent

# Every test: the guard rails (lint), then unit, then integration (namespaces and real peers; needs root). Unit
# tests include the man pages and completion generated from the build (oclif.manifest.json), hence `setup`.
test: setup lint
	npx vitest run

# Guard rails: sources, tests and benchmarks type-checked together (unused locals and parameters are errors),
# and no import cycle, type-only ones included.
# knip: no unused file, export, type or dependency (knip.jsonc; offline).
# prettier: the code is formatted (.prettierrc.json); `make format` rewrites it so.
lint: $(STAMPS)/npm
	npx tsc -p tsconfig.test.json
	npx dpdm --no-warning --no-tree --exit-code circular:1 'src/**/*.ts' 'commands/**/*.ts' 'bench/**/*.ts' 'test/**/*.ts'
	npx knip --no-progress
	npx prettier --check --log-level warn $(FORMATTED)

FORMATTED := 'src/**/*.ts' 'commands/**/*.ts' 'test/**/*.ts' 'bench/**/*.ts' 'bin/*.js' 'scripts/*.mjs'

format: $(STAMPS)/npm
	npx prettier --write --log-level warn $(FORMATTED)

test-unit: build
	npx vitest run --project unit

# The main job: a namespace lab (ToR simulator, the daemon, VM ports) shown end to end, then removed.
demo: setup
	./bin/run.js lab demo

# The same lab with a controller: a private RabbitMQ and a stand-in DFA server (oslo.messaging) push the VMs.
demo-controller: setup
	./bin/run.js lab demo --controller

# The daemon in the foreground on the embedded default configuration (Ctrl-C stops it).
run: setup
	./bin/run.js daemon

# The Debian package build/deb/vdp-agent_<version>_amd64.deb (scripts/build-deb.sh; lintian errors fail it).
deb: setup
	scripts/build-deb.sh

clean:
	rm -rf dist build $(STAMPS)
