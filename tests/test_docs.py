"""The documentation keeps up with the code."""

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _fields(*dotted: str) -> set[str]:
    """Field names of the config classes named ``module.Class``."""
    import importlib

    names: set[str] = set()
    for path in dotted:
        module, cls = path.rsplit(".", 1)
        names |= set(getattr(importlib.import_module(module), cls).field_names())
    return names


DOCUMENTED_CONFIGS = [
    # (doc, configs whose keys it must describe, configs documented elsewhere)
    ("market.md", ("evprice.market.config.MarketConfig",), ()),
    ("grid.md", ("evprice.envs.grid_charging.GridChargingConfig",), ("evprice.market.config.MarketConfig",)),
    (
        "coupled_network.md",
        ("evprice.envs.coupled_network.CoupledNetworkConfig",),
        ("evprice.envs.grid_charging.GridChargingConfig",),
    ),
    ("learning.md", ("evprice.learn.config.PPOConfig",), ()),
    (
        "safe.md",
        ("evprice.learn.safe.SafeRLConfig", "evprice.learn.ccem.CCEMConfig", "evprice.learn.ensemble.EnsembleConfig"),
        (),
    ),
]


@pytest.mark.parametrize(("doc", "configs", "elsewhere"), DOCUMENTED_CONFIGS)
def test_every_config_key_is_documented(doc, configs, elsewhere):
    text = (ROOT / "docs" / doc).read_text(encoding="utf-8")
    keys = _fields(*configs) - _fields(*elsewhere)
    missing = sorted(k for k in keys if f"`{k}`" not in text)
    assert not missing, f"docs/{doc} does not describe {missing}"


def test_readme_quick_start_matches_ci():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    test_command = 'pip install -e ".[test]" && python -m pytest'
    assert test_command in readme and test_command in ci
    assert "pip install -e . && evprice rollout" in readme


def test_economics_tables_are_generated_by_the_code():
    from evprice.analysis.reports import economics_tables

    text = (ROOT / "docs" / "economics.md").read_text(encoding="utf-8")
    start, end = text.index("<!-- tables:start -->\n"), text.index("<!-- tables:end -->")
    assert text[start + len("<!-- tables:start -->\n") : end] == economics_tables().rstrip() + "\n"


def test_readme_python_example_runs(capsys):
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    code = readme.split("```python\n", 1)[1].split("```", 1)[0]
    exec(compile(code, "README.md", "exec"), {})
    assert "station_1.ChargingStationStatus" in capsys.readouterr().out


def test_the_readme_says_what_the_seed_and_document_2_are():
    """Issue 21, friction 7: the two source documents the pages cite by name are named before the quick start."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    intro = readme[: readme.index("## Quick start")]
    assert "**The seed** (document 1) is the HERON EV" in intro
    assert '**Document 2** is the project\n"Dynamic Price Incentive for EV Decarbonization' in intro


def test_the_cli_reference_is_generated_by_the_commands():
    from evprice.cli_reference import reference_markdown

    text = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    assert text == reference_markdown() + "\n", "regenerate it: python -m evprice.cli_reference > docs/cli.md"


def test_the_scenario_check_in_the_docs_is_what_the_command_prints():
    from click.testing import CliRunner

    from evprice.cli import main

    out = CliRunner().invoke(main, ["scenario", "check", str(ROOT / "examples" / "sioux_falls_20.yaml")]).output
    text = (ROOT / "docs" / "scenario_check_sioux_falls_20.txt").read_text(encoding="utf-8")
    assert text == out, (
        "regenerate it: evprice scenario check examples/sioux_falls_20.yaml > docs/scenario_check_sioux_falls_20.txt"
    )
