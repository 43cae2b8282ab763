"""The tutorial notebook runs from top to bottom (with fewer training steps than it states)."""

import os
from pathlib import Path

import pytest

NOTEBOOK = Path(__file__).resolve().parents[1] / "examples" / "getting_started.ipynb"


def test_the_getting_started_notebook_runs(tmp_path, monkeypatch):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    monkeypatch.setenv("EVPRICE_NOTEBOOK_STEPS", "4096")
    monkeypatch.setenv("MPLBACKEND", "Agg")
    nb = nbformat.read(NOTEBOOK, as_version=4)
    where = {"metadata": {"path": str(tmp_path)}}  # the notebook's working directory: its run folder goes there
    client = nbclient.NotebookClient(nb, timeout=300, kernel_name="python3", resources=where)
    client.execute()  # raises CellExecutionError on the first cell that fails
    outputs = "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []))
    assert "evaluation Delta" in outputs and "lowest voltage of the day" in outputs
    assert os.path.isdir(tmp_path / "runs" / "notebook_mappo")  # the run folder, written where the notebook ran
