"""Markdown reports generated from the code, so that documentation cannot drift from it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from evprice.envs.registry import make_env
from evprice.policies.theory import benchmarks

DOC_SCENARIOS: tuple[tuple[str, str, dict[str, Any]], ...] = (
    ("LogitBertrand-v0, baseline (Calvano et al. 2020)", "LogitBertrand-v0", {}),
    ("LogitBertrand-v0, asymmetric costs c = (1, 1.2)", "LogitBertrand-v0", {"c": [1.0, 1.2]}),
    ("LogitBertrand-v0, asymmetric qualities a = (2, 2.5)", "LogitBertrand-v0", {"a": [2.0, 2.5]}),
    ("LogitBertrand-v0, three stations", "LogitBertrand-v0", {"n_stations": 3}),
    ("PublicCharging-v0 (static approximation and capacity-aware)", "PublicCharging-v0", {}),
)


def _fmt(x: float) -> str:
    return f"{x:.4f}"


def benchmark_table(report: Mapping[str, Any]) -> str:
    """One Markdown table: a row per benchmark, price / share / profit per station."""
    ids = [f"station_{i + 1}" for i in range(len(report["nash"]["prices"]))]
    cur = report["currency"]
    head = "| benchmark | " + " | ".join(f"{a} price, share, profit" for a in ids) + " | outside share |"
    rule = "|---|" + "---:|" * (len(ids) + 1)
    rows = [("Bertrand-Nash", report["nash"]), ("joint optimum", report["joint"])]
    leader = report["stackelberg"]["leader"]
    rows.append((f"Stackelberg, leader {leader}", report["stackelberg"]))
    if "capacity" in report:
        rows += [
            ("capacity-aware Nash", report["capacity"]["nash"]),
            ("capacity-aware joint", report["capacity"]["joint"]),
        ]
    lines = [head, rule]
    for name, sol in rows:
        if sol is None:
            continue
        cells = [f"{_fmt(p)}, {_fmt(q)}, {_fmt(v)}" for p, q, v in zip(sol["prices"], sol["shares"], sol["profits"])]
        lines.append(f"| {name} | " + " | ".join(cells) + f" | {_fmt(sol['outside_share'])} |")
    lines.append("")
    lines.append(f"Prices in {cur}/kWh, profits in {cur} per pricing period (before fixed costs); {report['kind']}.")
    for caveat in report["caveats"]:
        lines.append(f"- {caveat}")
    return "\n".join(lines)


def economics_tables() -> str:
    """The benchmark tables of ``docs/economics.md``."""
    parts = []
    for title, env_id, overrides in DOC_SCENARIOS:
        report = benchmarks(make_env(env_id, 1, **overrides))
        parts.append(f"#### {title}\n\n{benchmark_table(report)}\n")
    return "\n".join(parts)
