# chatd's commands. `make test` is THE test command (CI runs it via .ci/run).
#
#   make test       install missing test dependencies (.ci/deps), run the full suite,
#                   then make test-fuzz
#   make test-fuzz  every fuzz target for TEST_FUZZTIME (default 2000x: executions), unguided
#   make run        run the server on the built-in defaults (127.0.0.1:8080)
#   make vet        go vet ./...
#   make fuzz       every fuzz target for FUZZTIME (default 10s), coverage-guided
#   make deps       only install missing test dependencies

GO            ?= go
FUZZTIME      ?= 10s
TEST_FUZZTIME ?= 2000x

# The packages whose tests declare a fuzz target.
FUZZDIRS = $(shell grep -rl --include='*_test.go' '^func Fuzz' . | xargs -n1 dirname | sort -u)

.PHONY: test test-fuzz deps run vet fuzz

test: deps
	$(GO) test -race -shuffle=on -timeout 9m ./...
	@$(MAKE) --no-print-directory test-fuzz

deps:
	@bash .ci/deps

run:
	$(GO) run ./cmd/chatd

vet:
	$(GO) vet ./...

# Runs every fuzz target for FUZZTIME, one at a time (go test -fuzz takes one
# target per run), on top of its seed corpus (f.Add and testdata/fuzz/) and
# what earlier runs cached in $(go env GOCACHE)/fuzz, where the inputs that
# found new coverage go. A failing input is saved under that package's
# testdata/fuzz/ and fails the run, as does a package whose targets cannot
# be listed (it does not compile) or that lists none. The first run builds
# every package, the standard library included, with coverage
# instrumentation: minutes.
fuzz:
	@set -e; for dir in $(FUZZDIRS); do \
		list=$$($(GO) test -list '^Fuzz' $$dir); \
		targets=$$(echo "$$list" | grep '^Fuzz' || true); \
		if [ -z "$$targets" ]; then echo "fuzz: $$dir declares fuzz targets but go test -list finds none" >&2; exit 1; fi; \
		for target in $$targets; do \
			echo "fuzz: $$dir $$target ($(FUZZTIME))"; \
			$(GO) test -run '^$$' -fuzz "^$$target$$" -fuzztime $(FUZZTIME) $$dir; \
		done; \
	done

# make test's fuzz pass, about 80 s: each package's test binary, as
# go test -race builds it (so after make test's first step only links, in
# parallel), runs each of its fuzz targets for TEST_FUZZTIME in the package's directory,
# on the same corpus as make fuzz; a failing input is saved and fails the
# run the same way. The binary has no coverage instrumentation, so this
# mutates the corpus without coverage guidance: an instrumented build
# recompiles the standard library and every dependency, about 9 minutes on
# a 2-CPU machine with a cold cache, which seconds of fuzzing do not repay.
# Finding new inputs is make fuzz's job, and they are committed.
#
# The budget is a count of executions (seconds each: 2000 take about 1 to
# 3 s on 2 CPUs), not a duration: with a duration, Go 1.26's fuzzing coordinator
# sometimes fails a target at the deadline with a bare "context deadline
# exceeded" when the CPUs are busy (go.dev/issue/75804, fixed in Go 1.27),
# which would make make test flaky. make fuzz may see it too: a failure
# that writes no input under testdata/fuzz/ is that, not a find.
test-fuzz:
	@set -e; bin=$$(mktemp -d); trap 'rm -rf "$$bin"' EXIT; \
	cache=$$($(GO) env GOCACHE)/fuzz; \
	$(GO) test -c -race -o $$bin/ $(FUZZDIRS); \
	for dir in $(FUZZDIRS); do \
		pkg=$$($(GO) list $$dir); test=$$bin/$$(basename $$pkg).test; \
		targets=$$($$test -test.list '^Fuzz'); \
		if [ -z "$$targets" ]; then echo "test-fuzz: $$dir declares fuzz targets but lists none" >&2; exit 1; fi; \
		for target in $$targets; do \
			echo "test-fuzz: $$dir $$target ($(TEST_FUZZTIME), unguided)"; \
			(cd $$dir && $$test -test.run '^$$' -test.fuzz "^$$target$$" \
				-test.fuzztime $(TEST_FUZZTIME) -test.fuzzcachedir "$$cache/$$pkg"); \
		done; \
	done

# make bench: chatbench's quick standard suite (about 2 minutes): every
# scenario, small, against a fresh chatd and, where it speaks the scenario,
# the baseline; medians, ratios and the invariants. BENCHDIR (default a new
# /tmp/chatbench-suite.*) keeps the binaries, server logs and JSON reports.
.PHONY: bench
bench:
	@set -e; dir=$${BENCHDIR:-$$(mktemp -d /tmp/chatbench-suite.XXXXXX)}; \
	$(GO) build -o $$dir/bin/chatd ./cmd/chatd; \
	$(GO) build -o $$dir/bin/baseline ./bench/baseline; \
	$(GO) build -o $$dir/bin/chatbench ./cmd/chatbench; \
	$$dir/bin/chatbench suite -chatd $$dir/bin/chatd -baseline $$dir/bin/baseline \
		-server-config configs/chatbench-server.yaml -dir $$dir
