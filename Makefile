# simkit — set-up and everyday commands. Every target creates .venv on first use.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)
PORT   ?= 8501

.PHONY: app test demo bench lint quick fuzz setup clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[app,distributed,dev]'
	@rm -f $(VENV)/.installed-*
	@touch $@

setup: $(STAMP)

app: $(STAMP)  ## start the front end on the bundled example
	$(BIN)/streamlit run app/streamlit_app.py --server.headless true --server.port $(PORT)

test: $(STAMP)  ## the whole suite, every marker
	$(BIN)/python -m pytest -m '' -q

quick: $(STAMP)  ## the quick suite (skips slow, e2e, distributed)
	$(BIN)/python -m pytest -q

fuzz: $(STAMP)  ## the property tests, 5 rounds of newly drawn examples
	for round in 1 2 3 4 5; do SIMKIT_HYPOTHESIS=fuzz $(BIN)/python -m pytest -m hypothesis -q || exit 1; done

demo: $(STAMP)  ## the whole pipeline headless on the bundled examples
	$(BIN)/simkit demo

bench: $(STAMP)  ## benchmarks: absolute figure, ratio to baseline, PASS/MISS (never fails)
	$(BIN)/python -m benchmarks

lint: $(STAMP)
	$(BIN)/ruff check simkit app tests benchmarks scripts
	$(BIN)/ruff format --check simkit app tests benchmarks scripts
	$(BIN)/mypy simkit

clean:
	rm -rf $(VENV) build dist *.egg-info
