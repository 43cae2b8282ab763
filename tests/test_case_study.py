"""The seed's section-10 entry point runs as documented."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_run_random_rollout_module():
    r = subprocess.run(
        [sys.executable, "-m", "case_studies.power.ev_public_charging_case.run_random_rollout", "--seed", "2"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 0, r.stderr
    assert "96 pricing periods" in r.stdout and "wired correctly" in r.stdout
