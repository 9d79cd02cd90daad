# `make demo` and `make test` each set up .venv (with pip) if needed, then run.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.ffnn-installed

.PHONY: demo test bench theory notebook serve clean install mutation planted-bugs

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --disable-pip-version-check -q -e '.[all,dev]'
	touch $(STAMP)

demo: $(STAMP)
	MPLBACKEND=Agg $(BIN)/ffnn compare --backends numpy,torch,tensorflow --hidden 128,64 --epochs 10 \
		--batch-size 32 --lr 1.0 --out runs/demo

serve: $(STAMP)
	$(BIN)/ffnn serve

test: $(STAMP)
	$(BIN)/python -m pytest -q -n 2 --dist loadfile

bench: $(STAMP)
	$(BIN)/python benchmarks/bench.py

theory: $(STAMP)
	$(BIN)/ffnn theory --out docs/theory

notebook: $(STAMP)
	$(BIN)/jupyter nbconvert --to notebook --execute --inplace notebooks/MNIST_classification.ipynb

# Mutation testing of the core modules (minutes per module; not part of `make test`).
# `make mutation MUTATE="data config"` re-runs some modules; docs/testing.md is rebuilt from all results.
mutation: $(STAMP)
	$(BIN)/python tools/mutation.py $(MUTATE)

# Plant issue 17's bugs one at a time in a scratch copy and check that a test catches each.
planted-bugs: $(STAMP)
	$(BIN)/python tools/plant_bugs.py
	$(BIN)/python tools/mutation.py --report

clean:
	rm -rf $(VENV) runs .pytest_cache build src/*.egg-info
