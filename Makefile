# vdp-agent: the two commands of the README are `make demo` (the main job) and `make test`.
# Both set up a fresh machine first: Debian packages, npm dependencies (native addons built against the
# system Node headers), TypeScript build. Setup steps are stamped so repeated runs are quick.

DEBIAN_PACKAGES := iproute2 lldpd lldpad tcpdump rabbitmq-server python3-oslo.messaging
STAMPS := .stamps

.PHONY: setup build test test-unit demo demo-controller run clean

setup: $(STAMPS)/debs $(STAMPS)/npm build

$(STAMPS)/debs: Makefile scripts/install-debs.sh
	scripts/install-debs.sh $(DEBIAN_PACKAGES)
	@mkdir -p $(STAMPS) && touch $@

$(STAMPS)/npm: package.json package-lock.json
	npm_config_nodedir=/usr npm ci --no-audit --no-fund
	@mkdir -p $(STAMPS) && touch $@

build: $(STAMPS)/npm
	npm run build --silent

# Every test: unit, then integration (namespaces and real peers; needs root).
test: setup
	npx vitest run

test-unit: $(STAMPS)/npm
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

clean:
	rm -rf dist build $(STAMPS)
