# 말버릇 front door. Every target is a thin wrapper over `python -m lib...`, so on Windows
# without make you can run the same commands with .venv\Scripts\python (see README).
.DEFAULT_GOAL := help
SHELL := /bin/bash

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PROFILE ?= sample-cpu
CHAT ?=
ME ?=
ONLY ?=

PIPELINE_ARGS := --profile $(PROFILE) $(if $(CHAT),--chat $(CHAT)) $(if $(ME),--me $(ME)) $(if $(ONLY),--only $(ONLY))

help: ## list the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN{FS=":.*## "}{printf "  make %-10s %s\n", $$1, $$2}'

$(VENV)/.installed: requirements.txt pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install -r requirements.txt
	$(PY) -m pip install --quiet --no-deps -e .   # makes `import lib` work from notebooks/ and app/
	$(PY) -m ipykernel install --sys-prefix --name python3 --display-name "malbeot (.venv)" >/dev/null
	@touch $@

venv: $(VENV)/.installed ## create .venv from requirements.txt (done by every other target)

pipeline: venv ## run notebooks 01-05 headlessly (PROFILE=sample-cpu CHAT=... ME=... ONLY=01,02); a GPU profile runs the doctor first
	$(PY) -m lib.pipeline $(PIPELINE_ARGS)

doctor: venv ## can this machine run PROFILE? CUDA, GPU memory, 4-bit kernels, disk, hub, export (exit 1 = something to fix)
	$(PY) -m lib.doctor --profile $(PROFILE) $(if $(CHAT),--chat $(CHAT)) $(if $(ME),--me $(ME))

test: venv browser ## run the test suite
	$(PY) -m pytest

lab: venv ## open JupyterLab on notebooks/ with the project's venv as kernel
	$(PY) -m jupytext --sync notebooks/[0-9]*.py >/dev/null
	$(PY) -m jupyter lab notebooks/

app: venv ## run the chat page locally with the latest adapter
	$(PY) -m streamlit run app/streamlit_app.py

sample: venv ## rewrite the fictional sample chat in data/sample/
	$(PY) -m lib.sample

bench: venv ## run the CPU benchmarks (JSON to benchmarks/results/)
	$(PY) benchmarks/parse_speed.py
	$(PY) benchmarks/build_speed.py
	$(PY) benchmarks/privacy_recall.py
	$(PY) benchmarks/train_memory.py
	$(PY) benchmarks/cpu_serving.py

browser: ## install Debian's chromium + chromedriver + Korean fonts for the browser test (root only; skipped otherwise)
	@command -v chromium >/dev/null && command -v chromedriver >/dev/null && fc-list 2>/dev/null | grep -qi nanum || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver fonts-nanum fonts-noto-color-emoji >/dev/null) \
	      || echo "note: could not install chromium; the browser test will be skipped"; \
	  else echo "note: chromium not found; the browser test will be skipped (apt-get install chromium chromium-driver)"; fi; }

clean: ## remove outputs/ and data/processed/ (keeps .venv and data/raw)
	rm -rf outputs data/processed

.PHONY: help venv pipeline doctor test lab app sample bench browser clean
