"""``GridCharging-v0``: the public charging market coupled to a distribution feeder.

Each station draws its power from a bus of the feeder (``station_buses``, 0-based
pandapower indices; by default document 2's buses 31, 13, 19 of its ``case33bw`` variant).
Every pricing period the stations' grid draw (energy delivered / charging efficiency) is
added to the buses' base load (the feeder's published loads times a daily profile, with
noise drawn per episode), a power flow is run, and the grid's constraint costs are
reported apart from the reward:

* ``info["cost"]`` (B, N): the total constraint cost of the period, the same for every
  station (the feeder is shared);
* ``info["grid"]``: each term (``cost_voltage`` p.u., ``cost_line``, ``cost_carbon`` kg CO2)
  and the total (``cost``), whether the power flows ``converged``, ``vm_min_pu``,
  ``max_line_loading`` (monitored lines), ``feeder_stress``,
  ``carbon_intensity_g_per_kwh`` (of the feeder's supply), ``p_loss_mw``, ``p_slack_mw``,
  each (B,), and ``station_p_mw``, ``station_carbon_g_per_kwh`` (at each station's bus),
  ``station_emissions_kg`` and ``bus_vm_pu``, each (B, N);

on every step, the last of an episode included. With ``powerflow_every="period"`` one
power flow runs at the period's average loads; with ``"substep"`` one runs at each internal
step's average loads (all of them in one batched solve) and the period's costs aggregate
them (:func:`evprice.grid.costs.period_costs`: voltage and line averaged, carbon summed);
``vm_min_pu`` / ``bus_vm_pu`` are the lowest, ``max_line_loading`` and ``feeder_stress``
the highest, the others the mean. Voltages, loadings, losses and slack power come from the
power flows that converged (NaN if none did); costs, stress and carbon judge a failed one
at the worst case (:class:`evprice.grid.model.GridAssessment`). The grid features
(:mod:`evprice.grid.features`) hold the latest power flow: at reset, the base load of the
first hour with idle stations.

The reward is the market's (:mod:`evprice.market.reward`): prices are judged on profit,
and the grid's safety is a separate signal for constrained learners.

The scenario is the market composed with one coupling, :class:`evprice.envs.couplings.GridCoupling`
(which holds the power flow and its state); this module holds its config and registers it.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

from evprice.core.config import ConfigError, check_int, invalid
from evprice.core.declared import choice, config_field, number
from evprice.envs.couplings.grid import GridCoupling
from evprice.envs.registry import EnvSpec, register
from evprice.grid.config import GridConfig
from evprice.grid.features import GRID_VISIBILITY
from evprice.grid.feeders import Feeder
from evprice.market.config import MarketConfig

POWERFLOW_EVERY = ("period", "substep")

_grid = partial(config_field, section="grid")

GRID_CHARGING_DEFAULTS = {
    "n_stations": 3,
    "chargers_per_station": 10,
    "charger_power_kw": 60.0,
    "arrivals_per_station_per_day": 120.0,
}
"""``GridCharging-v0``'s defaults over the market's: document 2's three stations, each a hub of
ten 60 kW chargers with 120 EVs a day, so that the stations' draw matters to the feeder
(at the middle price, 1.3 CNY/kWh, it peaks at 0.50 MW on an average day, 0.74 MW at most
over 64 days)."""


@dataclass(frozen=True)
class GridChargingConfig(GridConfig, MarketConfig):
    """Configuration of ``GridCharging-v0``: the market's fields, the grid's, and the coupling."""

    CONFIG_NAME = "GridCharging-v0"

    station_buses: tuple[int, ...] | None = _grid(
        None,
        "-",
        "feeder bus of each station (0-based; a feeder file's own bus labels, pandapower's bus index); "
        "None = the feeder's station buses (doc2: 31, 13, 19)",
    )
    charger_power_factor: float = _grid(
        1.0,
        "1",
        "power factor of the stations' draw (lagging); 1 = no reactive power",
        number(0.1, 1.0, reason="chargers run near unity (grid codes ask for 0.9 or more)"),
    )
    powerflow_every: str = _grid(
        "period",
        "-",
        "'period': a power flow every pricing period at its average loads; 'substep': one every internal step",
        choice(POWERFLOW_EVERY),
    )
    grid_observability: str = _grid(
        "published",
        "-",
        "'published': stations see the public GridSignal only; 'full': also bus voltages and line loadings",
        choice(GRID_VISIBILITY),
    )

    def __post_init__(self) -> None:
        MarketConfig.__post_init__(self)
        GridConfig.__post_init__(self)
        s = lambda k, v: object.__setattr__(self, k, v)  # noqa: E731
        if self.station_buses is not None:
            feeder = self.make_feeder()
            labels, slack = feeder.bus_labels, feeder.bus_labels[feeder.slack_bus]
            contiguous = labels == tuple(range(feeder.n_bus))
            what = f"bus indices in [0, {feeder.n_bus - 1}]" if contiguous else f"bus labels of feeder {feeder.name!r}"
            allowed = f"a list of {self.n_stations} {what}, one per station, none of them the substation (bus {slack})"
            buses = self.station_buses
            if isinstance(buses, (str, bytes)) or not hasattr(buses, "__iter__") or len(list(buses)) != self.n_stations:
                raise invalid("station_buses", buses, allowed)
            high = feeder.n_bus - 1 if contiguous else None
            checked = tuple(check_int(f"station_buses[{i}]", b, low=0, high=high) for i, b in enumerate(buses))
            for i, bus in enumerate(checked):
                if bus == slack or bus not in labels:
                    err = invalid("station_buses", buses, allowed + ("" if contiguous else f": {list(labels)}"))
                    err.key = f"station_buses[{i}]"  # the station whose bus it is, for a file's line
                    raise err
            s("station_buses", checked)
        self.buses(self.make_feeder())  # a feeder with too few default buses fails now

    def buses(self, feeder: Feeder) -> tuple[int, ...]:
        """The bus (0-based index into the feeder) of each station: as configured (labels
        mapped to indices), or the feeder's defaults."""
        if self.station_buses is not None:
            index = {label: k for k, label in enumerate(feeder.bus_labels)}
            return tuple(index[b] for b in self.station_buses)
        if self.n_stations > len(feeder.station_buses):
            raise ConfigError(
                f"station_buses=None is invalid with n_stations={self.n_stations}: feeder {feeder.name!r} "
                f"has default buses for {len(feeder.station_buses)} stations {list(feeder.station_buses)}; "
                "give one bus per station"
            )
        return feeder.station_buses[: self.n_stations]


register(
    EnvSpec(
        env_id="GridCharging-v0",
        description="public charging market on a distribution feeder: a power flow every period, grid costs in info",
        config_cls=GridChargingConfig,
        couplings=(GridCoupling,),
        defaults=GRID_CHARGING_DEFAULTS,
    )
)
