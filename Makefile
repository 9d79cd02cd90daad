# `make demo` and `make test` each set up .venv (with pip) if needed, then run.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.ffnn-installed

.PHONY: demo test bench theory notebook serve clean install

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
	$(BIN)/python -m pytest -q

bench: $(STAMP)
	$(BIN)/python benchmarks/bench.py

theory: $(STAMP)
	$(BIN)/ffnn theory --out docs/theory

notebook: $(STAMP)
	$(BIN)/jupyter nbconvert --to notebook --execute --inplace notebooks/MNIST_classification.ipynb

clean:
	rm -rf $(VENV) runs .pytest_cache build src/*.egg-info
