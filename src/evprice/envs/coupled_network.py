"""``CoupledNetwork-v0`` and ``SiouxFalls-v0``: stations on a road network and a feeder (document 2).

Charging requests start at the nodes of a road network (equal rates at every node unless
``origin_weights`` says otherwise; the market-wide daily profile sets the total). Each
driver picks the station of least generalised cost

    price_k x energy + value_of_time x (travel_time_weight x travel_time_k + expected_wait_k)

against an outside option (charging elsewhere), with logit noise of scale ``noise_scale``
(currency; 0 gives document 2's deterministic cheapest-station rule). Travel times are
the shortest paths from the driver's node to each station under the period's congestion
(:class:`evprice.transport.TravelTimes`, recomputed only when the congestion changes):
document 2's saturation by hour of day and its speed law on the 13-node network; the
BPR law with an hourly volume/capacity profile on Sioux Falls. The expected
wait is the M/G/c wait given the EVs at the station (:mod:`evprice.market.queueing`), and
stations are real first-come-first-served queues with waiting spaces.

Each station feeds a bus of document 2's feeder; the grid coupling, power flow and
constraint costs are those of :mod:`evprice.envs.grid_charging`.

The reward is selected by ``objective``:

* ``"profit"``: the market's reward (``reward``: team or individual), profit being revenue
  minus energy bought at the wholesale price (document 2's 0.7 CNY/kWh) and fixed costs;
* ``"social_welfare"``: the drivers' consumer surplus plus the stations' profit
  (:mod:`evprice.market.welfare`), the same for every station;
* ``"revenue_minus_supply_cost"``: what document 2 calls social welfare, the stations'
  revenue minus the cost of supplying their total draw at its tiered price (0.3 CNY/kWh up
  to 900 kW, 0.5 above). It counts no driver's surplus, so it rises with price.

The last two are shared by all stations and divided by the sum of their revenue scales.

``info["network"]`` adds, per period: ``supply_cost`` and ``revenue_minus_supply_cost`` (B,)
and ``waiting_h`` (B, N), the total time the EVs admitted at each station wait for a charger.

Road congestion follows the clock: the saturation (document 2's 13-node network) or the
volume/capacity ratio (BPR networks) of a period is that of the hour of day in which it
starts, whatever ``action_period_s`` is.

Document 2 does not state how long a pricing step is: here it is one hour, 12 steps from
08:00 to 20:00, the hours in which public charging and the feeder's load peak.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Any

from evprice.core.config import check_float, check_int, invalid
from evprice.core.declared import choice, config_field, number
from evprice.core.timing import HOURS_PER_DAY
from evprice.envs.couplings import GridCoupling, RoadCoupling, SupplyTariff
from evprice.envs.grid_charging import GRID_CHARGING_DEFAULTS, GridChargingConfig
from evprice.envs.registry import EnvSpec, register
from evprice.market.limits import MAX_PRICE_PER_KWH, PRICE_REASON
from evprice.market.limits import OBJECTIVES as MARKET_OBJECTIVES
from evprice.transport import ROAD_CLASSES, RoadNetwork, load_network

OBJECTIVES = (*MARKET_OBJECTIVES, "revenue_minus_supply_cost")
COUPLINGS = (RoadCoupling, GridCoupling, SupplyTariff)
"""The market composed with the road network (travel times), the feeder (power flow, grid
costs) and the supply tariff (``info["network"]``, document 2's welfare), in this order."""

DEFAULT_STATION_NODES = {"doc2": (1, 2, 3), "sioux_falls": (10, 16, 20)}
"""Road node (1-based label) of each station by network. Document 2: nodes 1, 2, 3. Sioux
Falls: three well-connected nodes of the city centre and south (our choice; the network
has no stations of its own)."""

SIOUX_FALLS_VC_BY_HOUR = (
    0.10, 0.08, 0.07, 0.07, 0.10, 0.25, 0.55, 0.90, 0.95, 0.70, 0.60, 0.62,
    0.65, 0.62, 0.65, 0.75, 0.90, 1.00, 0.85, 0.60, 0.45, 0.35, 0.25, 0.15,
)  # fmt: skip
"""Illustrative volume/capacity ratio of every link by hour of day for BPR networks: morning
and evening peaks near capacity (no trip table was available for Sioux Falls)."""

_costs = partial(config_field, section="costs")
_learning = partial(config_field, section="learning")
_roads = partial(config_field, section="roads")

COUPLED_NETWORK_DEFAULTS: dict[str, Any] = {
    **GRID_CHARGING_DEFAULTS,
    "chargers_per_station": 8,
    "charger_power_kw": 45.0,
    "price_min": (1.1, 1.3, 1.2),
    "price_max": (1.4, 1.5, 1.4),
    "action_period_s": 3600,
    "horizon_h": 12.0,
    "start_hour": 8.0,
    "arrivals_per_station_per_day": 100.0,
    "energy_demand_mean_kwh": 15.0,
    "dwell_time_mean_h": 0.806,
    "elec_price_per_kwh": (0.7,) * HOURS_PER_DAY,
    "elec_price_noise_std_per_kwh": 0.0,
    "fixed_cost_per_h": 0.0,
    "driver_cost": "generalised",
    "value_of_time_per_h": 20.0,
    "travel_time_weight": 4.0,
    "noise_scale": 3.0,
    "outside_option_price_per_kwh": 1.8,
    "outside_option_time_h": 0.5,
    "when_full": "queue",
    "waiting_spaces": 4,
}
"""``CoupledNetwork-v0``'s defaults over the grid scenario's. From document 2: three
stations of 45 kW chargers, 15 kWh per EV, mean service 0.806 h, the price bounds, the
0.7 CNY/kWh purchase price, travel time weighted 4x. Ours (document 2 does not give them):
8 chargers and 4 waiting spaces per station, 300 requests a day, a value of time of
20 CNY/h, logit scale 3 CNY, an outside option at 1.8 CNY/kWh and half an hour."""


COUPLED_NETWORK_PEAK_DEFAULTS: dict[str, Any] = {
    **COUPLED_NETWORK_DEFAULTS,
    "chargers_per_station": 32,
    "arrivals_per_station_per_day": 1500.0,
    "noise_scale": 1.5,
    "outside_option_price_per_kwh": 1.0,
    "base_load_scale": 0.74,
    "carbon_cap_g_per_kwh": None,
    "cost_form": "indicator",
}
"""``CoupledNetworkPeak-v0``: ``CoupledNetwork-v0`` where the prices decide whether the feeder
stays in its voltage band. In ``CoupledNetwork-v0`` they cannot: its stations draw under
0.3 MW against a 3.3 MW feeder whose evening base load alone leaves the band, and every
kWh they draw is above the carbon cap, so every period has a cost at every price. Here the
stations are hubs of 32 chargers with 1,500 requests a day each (about 1 MW together at
the middle prices), drivers are more price-sensitive (logit scale 1.5 CNY, charging
elsewhere at 1.0 CNY/kWh and half an hour), the base load is scaled to 0.74 so that the
feeder alone stays in band, there is no carbon cap, and a period's cost is 1 when the
voltage or a monitored line leaves its limit (``cost_form="indicator"``: an episode's cost
counts its violating periods). The calibration and the measured trade-off between profit
and violations are in ``docs/safe.md``."""


@dataclass(frozen=True)
class CoupledNetworkConfig(GridChargingConfig):
    """Configuration of ``CoupledNetwork-v0``: the grid scenario's fields and the road network's."""

    CONFIG_NAME = "CoupledNetwork-v0"

    road_network: str = _roads(
        "doc2", "-", "'doc2' (13 nodes), 'sioux_falls' (24 nodes), a CSV edge table or a TNTP _net.tntp file"
    )
    station_nodes: tuple[int, ...] | None = _roads(
        None, "-", "road node (1-based label) of each station; None = the network's defaults (doc2: 1, 2, 3)"
    )
    road_saturation_by_hour: tuple[tuple[float, ...], ...] | None = _roads(
        None,
        "1",
        "doc2-speed networks: saturation u of (urban, main, suburban) roads by hour of day, one row (every hour) "
        "or 24 rows from 00:00; None = document 2's 12 steps as 08:00-20:00, its least saturated level at night",
    )
    road_volume_capacity_by_hour: float | tuple[float, ...] = _roads(
        SIOUX_FALLS_VC_BY_HOUR,
        "1",
        "BPR networks: volume/capacity ratio of every link, one number or 24 hourly",
        number(0.0, 10.0, shape="hourly", reason="BPR's delay at 10 times capacity is 1 + 0.15 x 10^4 = 1,501 times"),
    )
    ALLOWED_OBJECTIVES = OBJECTIVES

    objective: str = _learning(
        "profit",
        "-",
        "'profit' (the market's reward), 'social_welfare' (consumer surplus + profit) or "
        "'revenue_minus_supply_cost' (document 2's welfare)",
        choice("ALLOWED_OBJECTIVES"),
    )
    supply_threshold_kw: float = _costs(
        900.0,
        "kW",
        "total station draw up to which supply costs the low price",
        number(0.0, 1e6, reason="a distribution substation supplies at most about 100 MW"),
    )
    supply_cost_low_per_kwh: float = _costs(
        0.3,
        "currency/kWh",
        "supply cost below the threshold (document 2)",
        number(0.0, MAX_PRICE_PER_KWH, reason=PRICE_REASON),
    )
    supply_cost_high_per_kwh: float = _costs(
        0.5,
        "currency/kWh",
        "supply cost above the threshold (document 2)",
        number(0.0, MAX_PRICE_PER_KWH, reason=PRICE_REASON),
    )

    def __post_init__(self) -> None:
        s = lambda k, v: object.__setattr__(self, k, v)  # noqa: E731
        network = self.make_network()
        if self.origin_weights is None:  # before the market's checks, which size the zones
            s("origin_weights", (1.0,) * network.n_nodes)
        GridChargingConfig.__post_init__(self)
        if self.n_origins != network.n_nodes:
            raise invalid(
                "origin_weights",
                self.origin_weights,
                f"{network.n_nodes} weights, one per node of road network {network.name!r} (in label order), "
                "or 24 such lists (one per hour)",
            )
        nodes = self.station_nodes
        if nodes is None:
            if network.name not in DEFAULT_STATION_NODES:
                raise invalid("station_nodes", nodes, f"{self.n_stations} node labels of {network.name!r}")
            nodes = DEFAULT_STATION_NODES[network.name][: self.n_stations]
        labels = [int(v) for v in network.node_labels]
        allowed = f"{self.n_stations} node labels in {labels[0]}..{labels[-1]}, one per station"
        if isinstance(nodes, (str, bytes)) or not hasattr(nodes, "__iter__") or len(list(nodes)) != self.n_stations:
            raise invalid("station_nodes", nodes, allowed)
        checked = tuple(check_int(f"station_nodes[{i}]", v, low=1) for i, v in enumerate(nodes))
        for i, v in enumerate(checked):
            if v not in labels:
                err = invalid("station_nodes", nodes, allowed)
                err.key = f"station_nodes[{i}]"  # the station whose node it is, for a file's line
                raise err
        s("station_nodes", checked)
        if self.road_saturation_by_hour is not None:
            name, rows = "road_saturation_by_hour", self.road_saturation_by_hour
            allowed = f"1 or {HOURS_PER_DAY} rows (hours from 00:00) of {len(ROAD_CLASSES)} saturations {ROAD_CLASSES}"
            ok = not isinstance(rows, (str, bytes)) and hasattr(rows, "__iter__") and len(list(rows)) in (1, 24)
            if not ok or any(not hasattr(r, "__len__") or len(r) != len(ROAD_CLASSES) for r in rows):
                raise invalid(name, rows, allowed)
            checked = tuple(
                tuple(check_float(f"{name}[{i}][{j}]", u, low=0.0, high=5.0) for j, u in enumerate(r))
                for i, r in enumerate(rows)
            )
            s(name, checked * (HOURS_PER_DAY // len(checked)))

    def make_network(self) -> RoadNetwork:
        """The road network (a fresh load: networks are read-only and cheap)."""
        return load_network(self.road_network)


register(
    EnvSpec(
        env_id="CoupledNetwork-v0",
        description="document 2: drivers routed on a 13-node road network choose stations on a feeder; grid costs",
        config_cls=CoupledNetworkConfig,
        couplings=COUPLINGS,
        defaults=COUPLED_NETWORK_DEFAULTS,
    )
)
register(
    EnvSpec(
        env_id="CoupledNetworkPeak-v0",
        description="CoupledNetwork-v0 with large hubs on a feeder near its voltage limit: prices decide safety",
        config_cls=CoupledNetworkConfig,
        couplings=COUPLINGS,
        defaults=COUPLED_NETWORK_PEAK_DEFAULTS,
    )
)
register(
    EnvSpec(
        env_id="SiouxFalls-v0",
        description="CoupledNetwork-v0 on the Sioux Falls road network (24 nodes, BPR congestion by hour)",
        config_cls=CoupledNetworkConfig,
        couplings=COUPLINGS,
        defaults={**COUPLED_NETWORK_DEFAULTS, "road_network": "sioux_falls"},
    )
)
