"""Fixtures of the data tests.

The real Paper_data workbooks have no licence and are never copied into this repository:
tests that need them read them where they lie, located by ``$EVPRICE_PAPER_DATA`` or
``<repo>/../shared/data/paper_data``, and skip when they are absent. Every other test writes
small synthetic workbooks to ``tmp_path``.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from evprice.data import PAPER_DATA_FILES, PaperData, load_paper_data

ENV_VAR = "EVPRICE_PAPER_DATA"
ROOT = Path(__file__).resolve().parents[2]


def paper_data_dir() -> Path:
    env = os.environ.get(ENV_VAR)
    return Path(env) if env else ROOT.parent / "shared" / "data" / "paper_data"


@pytest.fixture(scope="session")
def paper_data() -> PaperData:
    """The three real workbooks, loaded once; skips the test when they are absent."""
    d = paper_data_dir()
    absent = [name for name in PAPER_DATA_FILES.values() if not (d / name).is_file()]
    if absent:
        pytest.skip(f"Paper_data not found in {d} (set {ENV_VAR}); it is never shipped: {absent}")
    pytest.importorskip("pandas")
    pytest.importorskip("openpyxl")
    return load_paper_data(d)
