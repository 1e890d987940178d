"""Smoke run of `python -m lib.pipeline` (notebooks 01 -> 05 on the sample-cpu profile), as `make pipeline` does.

It writes beside your results (MALBEOT_OUTPUTS / MALBEOT_PROCESSED point into outputs/test-pipeline/), so a
test run never re-points outputs/adapters/latest at a sample adapter.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import nbformat
import pytest

from lib import config

pytestmark = pytest.mark.slow

WORK = config.ROOT / "outputs" / "test-pipeline"
NOTEBOOKS = ["01_explore", "02_clean", "03_compare", "04_train", "05_eval"]


@pytest.fixture(scope="module")
def pipeline_run():
    shutil.rmtree(WORK, ignore_errors=True)
    env = dict(os.environ, MALBEOT_OUTPUTS=str(WORK / "outputs"), MALBEOT_PROCESSED=str(WORK / "processed"))
    proc = subprocess.run([sys.executable, "-m", "lib.pipeline", "--profile", "sample-cpu"], cwd=config.ROOT,
                          env=env, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, f"pipeline failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-6000:]}"
    return WORK / "outputs", WORK / "processed", proc.stdout


def _outputs_text(nb_path) -> str:
    """Everything a reader of the executed notebook sees: cell outputs, not the source."""
    nb = nbformat.read(nb_path, as_version=4)
    parts = []
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            parts.append(out.get("text", ""))
            for key, value in out.get("data", {}).items():
                if key.startswith("text/"):
                    parts.append(value if isinstance(value, str) else "".join(value))
    return "\n".join(parts)


def test_every_notebook_runs_and_reports_where_results_are(pipeline_run):
    outputs, _, stdout = pipeline_run
    for name in NOTEBOOKS:
        assert (outputs / "notebooks" / f"{name}.ipynb").is_file(), name
        assert any((outputs / "figures").glob(f"{name[:2]}_*.png")), f"{name} saved no figure"
    assert "results:" in stdout


def test_pipeline_artefacts(pipeline_run):
    outputs, processed, _ = pipeline_run
    card = json.loads((processed / "sample" / "card.json").read_text(encoding="utf-8"))
    assert card
    winner = json.loads((outputs / "compare" / "winner.json").read_text(encoding="utf-8"))
    assert winner["model"] in config.load_profile("sample-cpu")["models"]["candidates"]
    latest = outputs / "adapters" / "latest"
    assert (latest / "adapter_config.json").is_file() or (outputs / "adapters" / "LATEST").is_file()
    assert (outputs / "report" / "eval.md").is_file()
    html = (outputs / "report" / "blind_test.html").read_text(encoding="utf-8")
    assert "<html" in html.lower()


def test_executed_notebooks_show_no_planted_personal_value(pipeline_run):
    outputs, _, _ = pipeline_run
    planted = json.loads((config.SAMPLE / "planted.json").read_text(encoding="utf-8"))
    speakers = {"이도윤", "최서연", "도윤", "서연"}  # who is "me" is the user's own input, shown on purpose
    values = [v for kind, vals in planted.items() for v in vals if not (kind == "name" and v in speakers)]
    assert len(values) > 10
    for name in NOTEBOOKS[1:]:
        text = _outputs_text(outputs / "notebooks" / f"{name}.ipynb")
        leaked = [v for v in values if v in text]
        assert not leaked, f"{name} shows raw personal values: {leaked}"
