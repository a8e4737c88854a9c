# Waymark's everyday commands. `make test` is what CI runs (.ci/run).
GO ?= go
FUZZTIME ?= 60s

# Programs some tests drive, as program:debian-package. Without one, its
# tests skip (go test shows that only with -v, so the test target says it
# here); with CI=true they fail (internal/testtool). .ci/run installs them.
TEST_TOOLS = nvim:neovim dot:graphviz git:git mount:mount chromium:chromium

.PHONY: test vet tools bench fuzz generate

test: vet tools
	$(GO) test ./...
	$(GO) run ./cmd/waymark test examples/*/

tools:
	@case "$${CI:-}" in ""|0|false|FALSE|False) fate="skip";; *) fate="fail (CI is set)";; esac; \
	for t in $(TEST_TOOLS); do \
		prog=$${t%%:*}; pkg=$${t#*:}; \
		command -v $$prog >/dev/null || echo "make test: $$prog is not on PATH, so the tests that drive it will $$fate: apt-get install $$pkg"; \
	done; \
	ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 || echo "make test: PostgreSQL's pg_ctl is not installed, so the PostgreSQL store tests will $$fate: apt-get install postgresql"

vet:
	@unformatted=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$unformatted" ]; then echo "gofmt would change: $$unformatted"; exit 1; fi
	$(GO) vet ./...

# Every benchmark prints its figures and, where one exists, its ratio to a
# baseline measured in the same run.
# The engine's benchmarks measure one step an op: they need many ops (2s)
# where the others measure a whole load an op (3 ops).
# BenchmarkOutboxDrain drains a 100k backlog an op: once is enough.
# BenchmarkJourneyAnalytics builds a store of 100,000 instances (about a
# million records; WAYMARK_ANALYTICS_INSTANCES=1000000 for the issue's
# scale) and queries it from the tallies and from the records.
bench:
	$(GO) test $$($(GO) list ./... | grep -v '/runtime/engine$$') -run '^$$' -bench . -skip 'OutboxDrain|JourneyAnalytics' -benchtime 3x
	$(GO) test ./runtime/store/sqlite -run '^$$' -bench JourneyAnalytics -benchtime 1x -timeout 60m
	$(GO) test ./runtime/store/sqlite ./runtime/store/pebble -run '^$$' -bench OutboxDrain -benchtime 1x
	$(GO) test ./runtime/engine -run '^$$' -bench . -benchtime 2s

# Each fuzz target for FUZZTIME (go test runs one target at a time).
fuzz:
	$(GO) test ./lang -run '^$$' -fuzz '^FuzzParse$$' -fuzztime $(FUZZTIME)
	$(GO) test ./compiler -run '^$$' -fuzz '^FuzzCompile$$' -fuzztime $(FUZZTIME)
	$(GO) test ./lang/timespec -run '^$$' -fuzz '^FuzzParseDuration$$' -fuzztime $(FUZZTIME)
	$(GO) test ./lang/timespec -run '^$$' -fuzz '^FuzzParseWindow$$' -fuzztime $(FUZZTIME)
	$(GO) test ./lang/timespec -run '^$$' -fuzz '^FuzzParseCap$$' -fuzztime $(FUZZTIME)
	$(GO) test ./lang/timespec -run '^$$' -fuzz '^FuzzParseReentry$$' -fuzztime $(FUZZTIME)
	$(GO) test ./runtime/engine -run '^$$' -fuzz '^FuzzStep$$' -fuzztime $(FUZZTIME)
	$(GO) test ./runtime/consent/linktoken -run '^$$' -fuzz '^FuzzParse$$' -fuzztime $(FUZZTIME)
	$(GO) test ./runtime/engine -run '^$$' -fuzz '^FuzzHTMLEscape$$' -fuzztime $(FUZZTIME)
	$(GO) test ./runtime/server -run '^$$' -fuzz '^FuzzIngest$$' -fuzztime $(FUZZTIME)
	$(GO) test ./runtime/server -run '^$$' -fuzz '^FuzzAdmin$$' -fuzztime $(FUZZTIME)
	$(GO) test ./runtime/server -run '^$$' -fuzz '^FuzzConsentRoutes$$' -fuzztime $(FUZZTIME)
	$(GO) test ./runtime/server -run '^$$' -fuzz '^FuzzClockRequest$$' -fuzztime $(FUZZTIME)
	$(GO) test ./runtime/server -run '^$$' -fuzz '^FuzzPlan$$' -fuzztime $(FUZZTIME)
	$(GO) test ./compiler/diff -run '^$$' -fuzz '^FuzzDiff$$' -fuzztime $(FUZZTIME)
	$(GO) test ./runtime/plan -run '^$$' -fuzz '^FuzzDecodeState$$' -fuzztime $(FUZZTIME)
	$(GO) test ./runtime/console -run '^$$' -fuzz '^FuzzConsole$$' -fuzztime $(FUZZTIME)

generate:
	$(GO) generate ./...
