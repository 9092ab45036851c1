# replsim: the two commands a newcomer needs are `make demo` and `make test`.
BUILD_DIR ?= build
JOBS ?= $(shell nproc)

.PHONY: all bootstrap configure build demo test soak bench format clean mutate
.PHONY: fuzz-build fuzz fuzz-seeds sanitize sanitize-soak

all: build

bootstrap:
	@scripts/bootstrap

configure: bootstrap
	@if [ ! -f $(BUILD_DIR)/build.ninja ]; then cmake --preset release; fi

build: configure
	cmake --build $(BUILD_DIR) -j $(JOBS)

# The standard scenario with a fixed seed: summary on stdout, HTML report in build/reports/demo.
demo: build
	@if [ -x $(BUILD_DIR)/bin/replsim ]; then \
	  $(BUILD_DIR)/bin/replsim run scenarios/multi_dc.textproto --seed 1 --report $(BUILD_DIR)/reports/demo; \
	else \
	  echo "demo: the scenario runner (build/bin/replsim) is not built yet; the foundation tests are:"; \
	  ctest --test-dir $(BUILD_DIR) -L unit --output-on-failure -j $(JOBS); \
	fi

# Every unit and property test (the slow ones run in `make soak`). JUnit XML for CI systems:
# $(BUILD_DIR)/ctest-junit.xml (ctest writes it relative to the build directory).
test: build
	ctest --test-dir $(BUILD_DIR) -L 'unit|property|scenario' --output-on-failure -j $(JOBS) --output-junit ctest-junit.xml

# Longer runs: slow tests and 20x the property cases, from a fresh random RapidCheck seed.
soak: build
	REPLSIM_SOAK=1 RC_PARAMS="max_success=4000" ctest --test-dir $(BUILD_DIR) -L 'unit|property|scenario|slow' --output-on-failure -j $(JOBS)
	@$(MAKE) --no-print-directory sanitize-soak

# Mutation testing (docs/mutation.md): every engine mutant of mutate/patches/ against the CI
# property budget, then the scenario library at seeds 1..2; the score per layer and module,
# the survivors, and build-mutate/mutation.json. Scratch copy and build in build-mutate/.
mutate: configure
	python3 mutate/run_mutants.py --jobs $(JOBS)

bench: build
	@scripts/run_benches $(BUILD_DIR)

format:
	@find engine sim runtime cli reports bench property_tests scenarios -name '*.h' -o -name '*.cc' 2>/dev/null | xargs -r clang-format -i

clean:
	rm -rf $(BUILD_DIR) build-debug $(FUZZ_DIR)

# --- Fuzzing and the sanitizer pass (docs/fuzzing.md) ---
# One clang build (preset `fuzz`, build-fuzz/) with ASan + UBSan and libFuzzer coverage serves
# both: the libFuzzer targets in fuzz/ and the sanitized run of the tests and scenarios.
FUZZ_DIR ?= build-fuzz
FUZZ_S ?= 600

fuzz-build: bootstrap
	@if [ ! -f $(FUZZ_DIR)/build.ninja ]; then cmake --preset fuzz; fi
	cmake --build $(FUZZ_DIR) -j $(JOBS) --target fuzzers

# Every fuzz target for FUZZ_S seconds (default 600); one table of execs/s and totals.
fuzz: fuzz-build
	fuzz/run_fuzzers.sh $(FUZZ_DIR) $(FUZZ_S)

# Rewrites the seed corpora from real runs (fuzz/seed_corpus.cc).
fuzz-seeds: fuzz-build
	cmake --build $(FUZZ_DIR) -j $(JOBS) --target fuzz_seeds
	$(FUZZ_DIR)/bin/fuzz_seeds fuzz/corpus .

# Run by hand or in CI beside `make test` (not yet part of it: its end-to-end cost after the
# merges is unmeasured; see docs/fuzzing.md). Under ASan + UBSan, the unit tests, the scenario library at seed 1, and
# each fuzz target over its corpus plus 10 s of fresh inputs.
sanitize: fuzz-build
	cmake --build $(FUZZ_DIR) -j $(JOBS) --target sanitize_build
	fuzz/sanitize.sh $(FUZZ_DIR) test

# Part of `make soak`: what `sanitize` leaves out (see fuzz/sanitize.sh).
sanitize-soak: fuzz-build
	cmake --build $(FUZZ_DIR) -j $(JOBS)
	fuzz/sanitize.sh $(FUZZ_DIR) soak
