# chatd's commands. `make test` is THE test command (CI runs it via .ci/run).
#
#   make test   install missing test dependencies (.ci/deps), then run the full suite
#   make run    run the server on the built-in defaults (127.0.0.1:8080)
#   make vet    go vet ./...
#   make fuzz   run every fuzz target briefly (FUZZTIME per target, default 10s)
#   make deps   only install missing test dependencies

GO       ?= go
FUZZTIME ?= 10s

.PHONY: test deps run vet fuzz

test: deps
	$(GO) test -race -shuffle=on -timeout 9m ./...

deps:
	@bash .ci/deps

run:
	$(GO) run ./cmd/chatd

vet:
	$(GO) vet ./...

# Runs every fuzz target for FUZZTIME, one at a time (go test -fuzz takes one
# target per run), in the packages whose tests declare one. A failing input is
# saved under that package's testdata/fuzz/ and fails the run.
fuzz:
	@set -e; for dir in $$(grep -rl --include='*_test.go' '^func Fuzz' . | xargs -n1 dirname | sort -u); do \
		for target in $$($(GO) test -list '^Fuzz' $$dir | grep '^Fuzz'); do \
			echo "fuzz: $$dir $$target ($(FUZZTIME))"; \
			$(GO) test -run '^$$' -fuzz "^$$target$$" -fuzztime $(FUZZTIME) $$dir; \
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
