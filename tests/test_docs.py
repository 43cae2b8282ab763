"""The documentation keeps up with the code."""

from pathlib import Path

from evprice.market.config import MarketConfig

ROOT = Path(__file__).resolve().parents[1]


def test_every_config_key_is_documented():
    text = (ROOT / "docs" / "market.md").read_text(encoding="utf-8")
    missing = [k for k in MarketConfig.field_names() if f"`{k}`" not in text]
    assert not missing, f"docs/market.md does not describe {missing}"


def test_every_grid_config_key_is_documented():
    from evprice.envs.grid_charging import GridChargingConfig

    text = (ROOT / "docs" / "grid.md").read_text(encoding="utf-8")
    keys = set(GridChargingConfig.field_names()) - set(MarketConfig.field_names())
    missing = sorted(k for k in keys if f"`{k}`" not in text)
    assert not missing, f"docs/grid.md does not describe {missing}"


def test_every_coupled_network_config_key_is_documented():
    from evprice.envs.coupled_network import CoupledNetworkConfig
    from evprice.envs.grid_charging import GridChargingConfig

    text = (ROOT / "docs" / "coupled_network.md").read_text(encoding="utf-8")
    keys = set(CoupledNetworkConfig.field_names()) - set(GridChargingConfig.field_names())
    missing = sorted(k for k in keys if f"`{k}`" not in text)
    assert not missing, f"docs/coupled_network.md does not describe {missing}"


def test_every_ppo_setting_is_documented():
    from evprice.learn import PPOConfig

    text = (ROOT / "docs" / "learning.md").read_text(encoding="utf-8")
    missing = [k for k in PPOConfig.field_names() if f"`{k}`" not in text]
    assert not missing, f"docs/learning.md does not describe {missing}"


def test_every_safe_rl_setting_is_documented():
    from evprice.learn.ccem import CCEMConfig
    from evprice.learn.ensemble import EnsembleConfig
    from evprice.learn.safe import SafeRLConfig

    text = (ROOT / "docs" / "safe.md").read_text(encoding="utf-8")
    keys = set(SafeRLConfig.field_names()) | set(CCEMConfig.field_names()) | set(EnsembleConfig.field_names())
    missing = sorted(k for k in keys if f"`{k}`" not in text)
    assert not missing, f"docs/safe.md does not describe {missing}"


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
