"""The documentation keeps up with the code."""

from pathlib import Path

from evprice.market.config import MarketConfig

ROOT = Path(__file__).resolve().parents[1]


def test_every_config_key_is_documented():
    text = (ROOT / "docs" / "market.md").read_text(encoding="utf-8")
    missing = [k for k in MarketConfig.field_names() if f"`{k}`" not in text]
    assert not missing, f"docs/market.md does not describe {missing}"


def test_readme_quick_start_matches_ci():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    test_command = 'pip install -e ".[test]" && python -m pytest'
    assert test_command in readme and test_command in ci
    assert "pip install -e . && evprice rollout" in readme
