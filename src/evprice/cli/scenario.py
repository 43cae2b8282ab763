"""``evprice scenario check PATH``: validate a scenario file and print what it builds."""

from __future__ import annotations

import json
from typing import Any

import click
import numpy as np

from evprice.cli.base import _Command, main


def scenario_summary(path: str) -> dict[str, Any]:
    """What the scenario at ``path`` builds: its stations, the feeder with its base-case power
    flow (the stations idle), the road network with the free-flow travel times from the
    requests' origins to each station, and the market's size (a plain-data mapping)."""
    from evprice.envs.scenario import load_scenario

    scenario = load_scenario(path)
    env = scenario.make(1)
    cfg = env.config
    out: dict[str, Any] = {
        "name": scenario.name,
        "description": scenario.description,
        "env": scenario.env_id,
        "stations": [],
        "market": {
            "n_stations": cfg.n_stations,
            "horizon_h": cfg.horizon_h,
            "action_period_s": cfg.action_period_s,
            "arrivals_per_day": float(cfg.arrival_rates_per_h().sum()),
            "driver_cost": cfg.driver_cost,
            "when_full": cfg.when_full,
        },
    }
    grid = env.coupling("grid") if _has(env, "grid") else None
    roads = env.coupling("roads") if _has(env, "roads") else None
    for i, sid in enumerate(scenario.station_ids):
        row: dict[str, Any] = {
            "id": sid,
            "agent": cfg.agent_ids[i],
            "chargers": int(cfg.chargers_per_station[i]),
            "power_kw": float(cfg.charger_power_kw[i]),
            "price_min": float(cfg.price_min[i]),
            "price_max": float(cfg.price_max[i]),
        }
        if grid is not None:
            row["bus"] = int(grid.grid.feeder.bus_labels[grid.station_buses[i]])
        if roads is not None:
            row["road_node"] = int(cfg.station_nodes[i])
        out["stations"].append(row)
    if grid is not None:
        from evprice.grid.powerflow import FastRadialSolver, powerflow_summary

        feeder = grid.grid.feeder
        scale = cfg.base_load_scale  # the published peak load, scaled as the scenario says
        base = powerflow_summary(FastRadialSolver(feeder).solve(feeder.load_p_mw * scale, feeder.load_q_mvar * scale))
        if base["converged"]:
            base["max_line_loading_line"] = feeder.line_labels[base["max_line_loading_line"]]
        out["feeder"] = {
            "name": feeder.name,
            "buses": feeder.n_bus,
            "lines": feeder.n_line,
            "transformers": feeder.line_kind.count("trafo"),
            "vn_kv": feeder.vn_kv,
            "base_case": base,
        }
    if roads is not None:
        network = roads.network
        times_h = roads.travel_times.times_h(0.0 if network.congestion_law == "bpr" else np.zeros(3))
        hourly = cfg.origin_weights_by_hour()  # (24, Z)
        weights = hourly[0] if (hourly == hourly[0]).all() else hourly.mean(axis=0)  # a zone's weight over the day
        active = weights > 0
        out["roads"] = {
            "name": network.name,
            "nodes": network.n_nodes,
            "arcs": network.n_arcs,
            "congestion_law": network.congestion_law,
            "origins": int(active.sum()),
            "origins_by_hour": bool(not (hourly == hourly[0]).all()),  # each node its own daily profile
            "free_flow_min_to_station": [
                {
                    "agent": cfg.agent_ids[i],
                    "min": float(times_h[active, i].min() * 60.0),
                    "mean_weighted": float(np.average(times_h[:, i], weights=weights) * 60.0),
                    "max": float(times_h[active, i].max() * 60.0),
                }
                for i in range(cfg.n_stations)
            ],
        }
    return out


def _has(env: Any, name: str) -> bool:
    return any(c.name == name for c in env.couplings)


@main.group()
def scenario() -> None:
    """Scenario files: your own stations, feeder, roads and demand."""


@scenario.command("check", cls=_Command)
@click.argument("path", type=click.Path(dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="print one JSON object")
def check(path: str, as_json: bool) -> None:
    """Validate the scenario at PATH and summarise it: stations, buses, nodes, the base-case
    power flow and the shortest paths."""
    summary = scenario_summary(path)
    if as_json:
        click.echo(json.dumps(summary, indent=1))
        return
    m = summary["market"]
    click.echo(f"scenario {summary['name']!r} on {summary['env']}: {summary['description']}".rstrip(": "))
    click.echo(
        f"market: {m['n_stations']} stations, {m['arrivals_per_day']:,.0f} requests a day, {m['horizon_h']:g} h "
        f"episodes of {m['action_period_s'] // 60} min periods, drivers {m['driver_cost']}, when full {m['when_full']}"
    )
    for row in summary["stations"]:
        where = "".join(f", {k} {row[k]}" for k in ("bus", "road_node") if k in row)
        click.echo(
            f"  {row['agent']} ({row['id']}): {row['chargers']} x {row['power_kw']:g} kW, "
            f"prices {row['price_min']:g}-{row['price_max']:g}{where}"
        )
    if "feeder" in summary:
        f, b = summary["feeder"], summary["feeder"]["base_case"]
        click.echo(
            f"feeder {f['name']}: {f['buses']} buses, {f['lines']} lines ({f['transformers']} transformers), "
            f"{f['vn_kv']:g} kV"
        )
        if b["converged"]:
            click.echo(
                f"  base case (peak load x base_load_scale, stations idle): {b['p_slack_mw']:.3f} MW from the grid, "
                f"losses {b['losses_kw']:.1f} kW, "
                f"voltage {b['vmin_pu']:.4f}-{b['vmax_pu']:.4f} p.u., most loaded {b['max_line_loading_line']} "
                f"at {b['max_line_loading']:.1%}"
            )
        else:
            click.echo("  base case (stations idle): the power flow does not converge")
    if "roads" in summary:
        r = summary["roads"]
        click.echo(
            f"roads {r['name']}: {r['nodes']} nodes, {r['arcs']} arcs ({r['congestion_law']}), "
            f"requests from {r['origins']} nodes"
            + (", each on its own hourly profile" if r["origins_by_hour"] else "")
            + "; free-flow minutes to each station (min / weighted mean / max):"
        )
        for t in r["free_flow_min_to_station"]:
            click.echo(f"  {t['agent']}: {t['min']:.1f} / {t['mean_weighted']:.1f} / {t['max']:.1f}")
