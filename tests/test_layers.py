"""Layers import downward only (docs/architecture.md): read from the source's import statements."""

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "evprice"

LAYERS = (
    ("core",),
    ("data", "market", "grid", "transport"),
    ("envs",),
    ("adapters", "policies"),
    ("api",),
    ("learn",),
    ("analysis",),
    ("cli",),
    ("cli_reference", "__init__"),
)
"""Each package may import from the rows above its own only, never from its own row's siblings."""
RANK = {name: row for row, names in enumerate(LAYERS) for name in names}


def imports(path: Path) -> set[str]:
    """Top-level ``evprice`` packages a module imports (type-checking-only imports included)."""
    out = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names = []
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
        elif isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        out |= {n.split(".")[1] for n in names if n.startswith("evprice.")}
    return out


MODULES = sorted(SRC.rglob("*.py"))


def package_of(path: Path) -> str:
    return path.relative_to(SRC).parts[0].removesuffix(".py")


def test_every_package_has_a_layer():
    assert {package_of(p) for p in MODULES} <= set(RANK)


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(SRC)))
def test_imports_point_down(path):
    own = package_of(path)
    wrong = sorted(t for t in imports(path) - {own} if RANK[t] >= RANK[own])
    assert not wrong, f"{path.relative_to(SRC)} (layer {own}) imports {wrong}, which are not below it"


def test_the_test_reads_imports():
    """The check above would pass on a reader that finds nothing: it finds the known edges."""
    assert imports(SRC / "envs" / "market_env.py") >= {"core", "market"}
    assert "envs" in imports(SRC / "adapters" / "pettingzoo_env.py")
