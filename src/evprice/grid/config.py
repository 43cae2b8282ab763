"""``GridConfig``: the feeder, its base load, its limits and how violations are costed.

Typed, frozen and validated like every config (a bad value raises
:class:`~evprice.core.config.ConfigError` naming the field, the value and what is
allowed). Bus and line indices are 0-based pandapower indices.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

import numpy as np

from evprice.core.config import ConfigError, check_int, invalid
from evprice.core.declared import ConfigMixin, choice, config_field, number
from evprice.core.timing import HOURS_PER_DAY
from evprice.grid.costs import COST_FORMS, CostWeights
from evprice.grid.feeders import FEEDERS, Feeder, is_feeder_file, make_feeder
from evprice.grid.powerflow import SOLVERS
from evprice.grid.profiles import IEEE_RTS_WINTER_WEEKDAY

MAX_EMISSION_G_PER_KWH = 5000.0
"""Upper bound of an emission factor (lignite is about 1,100 g/kWh)."""
_EMISSION_REASON = "lignite, the most carbon-intensive fuel, emits about 1,100 g/kWh"
_LOAD_REASON = "a factor of the published peak load; ten times it is beyond any feeder's rating"
MAX_COST_WEIGHT = 1e6
"""Largest weight of a cost term: the terms are O(1) to O(1,000), so costs stay far from overflow."""
_WEIGHT = "terms are of order 1 to 1,000; a weight of a million ranks any term first"

_grid = partial(config_field, section="grid")


@dataclass(frozen=True)
class GridConfig(ConfigMixin):
    """Configuration of the distribution feeder a market is coupled to."""

    CONFIG_NAME = "grid"

    feeder: str = _grid(
        "doc2",
        "-",
        "'case33bw' (IEEE 33-bus, Baran & Wu), 'doc2' (document 2's variant: 3 MW generator at bus 5, "
        "loads x 0.9, 0.225 MW more at buses 31, 13, 19), 'cigre_mv' (CIGRE MV benchmark, 110/20 kV, PV and wind), "
        "or the path of a pandapower .json or MATPOWER .m file (a radial feeder)",
    )
    solver: str = _grid(
        "fast", "-", "power-flow solver: 'fast' (batched, numpy) or 'pandapower' (Newton-Raphson)", choice(SOLVERS)
    )
    base_load_profile: tuple[float, ...] | None = _grid(
        None,
        "1",
        "24 hourly factors multiplying every bus's published (peak) load; None = the IEEE RTS winter weekday",
        number(0.0, 10.0, shape="hourly_list", optional=True, reason=_LOAD_REASON),
    )
    base_load_scale: float = _grid(
        1.0, "1", "multiplier of every bus's base load", number(0.0, 10.0, reason=_LOAD_REASON)
    )
    base_load_noise_std: float = _grid(
        0.02,
        "1",
        "std of the relative noise on each hour's base load, drawn per episode (clipped at 3 std)",
        number(0.0, 0.3, reason="at 3 std the load stays positive (1 - 3 x 0.3 > 0)"),
    )
    vm_min_pu: float = _grid(
        0.95,
        "p.u.",
        "lowest allowed bus voltage",
        number(0.5, 1.0, high_open=True, reason="grid codes allow 10% (EN 50160); half the nominal is a collapse"),
    )
    vm_max_pu: float = _grid(
        1.05,
        "p.u.",
        "highest allowed bus voltage",
        number(1.0, 1.5, low_open=True, reason="equipment is rated within a few per cent of 1 p.u."),
    )
    monitored_lines: tuple[int, ...] | None = _grid(
        None, "-", "lines (0-based) whose loading is costed and observed; None = the feeder's own list"
    )
    line_loading_limit: float = _grid(
        0.9,
        "1",
        "allowed current of a monitored line, as a fraction of its rating",
        number(0.0, 10.0, low_open=True, reason="a fraction of the rating; ten times it is beyond any overload"),
    )
    ext_grid_emission_g_per_kwh: float | tuple[float, ...] = _grid(
        700.0,
        "g/kWh",
        "carbon intensity of power imported from the external grid: one number or 24 hourly values",
        number(0.0, MAX_EMISSION_G_PER_KWH, shape="hourly_or_one", reason=_EMISSION_REASON),
    )
    sgen_emission_g_per_kwh: float = _grid(
        900.0,
        "g/kWh",
        "carbon intensity of the feeder's static generation",
        number(0.0, MAX_EMISSION_G_PER_KWH, reason=_EMISSION_REASON),
    )
    carbon_cap_g_per_kwh: float | None = _grid(
        785.0,
        "g/kWh",
        "carbon intensity of the power at a station's bus above which its energy incurs the carbon cost; "
        "None = no carbon cost",
        number(0.0, MAX_EMISSION_G_PER_KWH, low_open=True, optional=True, reason=_EMISSION_REASON),
    )
    cost_weight_voltage: float = _grid(
        1.0, "1/p.u.", "weight of the voltage term in the total cost", number(0.0, MAX_COST_WEIGHT, reason=_WEIGHT)
    )
    cost_weight_line: float = _grid(
        1.0, "1", "weight of the line-loading term in the total cost", number(0.0, MAX_COST_WEIGHT, reason=_WEIGHT)
    )
    cost_weight_carbon: float = _grid(
        0.002,
        "1/kg",
        "weight of the carbon term (kg CO2 above the cap) in the total cost",
        number(0.0, MAX_COST_WEIGHT, reason=_WEIGHT),
    )
    nonconvergence_cost: float = _grid(
        10.0,
        "1",
        "weight of the share of a period's power flows that did not converge, on top of their worst-case terms",
        number(0.0, MAX_COST_WEIGHT, reason=_WEIGHT),
    )
    cost_form: str = _grid(
        "weighted",
        "-",
        "a period's cost: 'weighted' (the weighted total of the terms) or 'indicator' (1 if that total is above 0, "
        "else 0: an episode's cost counts its violating periods)",
        choice(COST_FORMS),
    )

    def __post_init__(self) -> None:
        self.check_declared()
        s = lambda k, v: object.__setattr__(self, k, v)  # noqa: E731
        if not isinstance(self.feeder, str) or not (self.feeder in FEEDERS or is_feeder_file(self.feeder)):
            allowed = (
                f"one of {', '.join(map(repr, FEEDERS))}, or the path of an existing pandapower .json or "
                "MATPOWER .m file"
            )
            raise invalid("feeder", self.feeder, allowed)
        feeder = self.make_feeder()
        if self.monitored_lines is not None:
            lines = self.monitored_lines
            if isinstance(lines, (str, bytes)) or not hasattr(lines, "__iter__") or not list(lines):
                raise invalid("monitored_lines", lines, f"a non-empty list of line indices in [0, {feeder.n_line - 1}]")
            checked = tuple(
                check_int(f"monitored_lines[{i}]", x, low=0, high=feeder.n_line - 1) for i, x in enumerate(lines)
            )
            if len(set(checked)) != len(checked):
                raise invalid("monitored_lines", lines, "line indices without repeats")
            s("monitored_lines", checked)
        if not self.vm_min_pu < feeder.slack_vm_pu < self.vm_max_pu:
            raise ConfigError(
                f"vm_min_pu={self.vm_min_pu!r} and vm_max_pu={self.vm_max_pu!r} are invalid: the band must "
                f"contain the substation voltage {feeder.slack_vm_pu:g} p.u."
            )

    # -- derived -----------------------------------------------------------------------
    def make_feeder(self) -> Feeder:
        return make_feeder(self.feeder)

    def lines_monitored(self, feeder: Feeder) -> tuple[int, ...]:
        """The monitored lines: as configured, or the feeder's own list."""
        return feeder.monitored_lines if self.monitored_lines is None else self.monitored_lines

    def base_load_profile_factors(self) -> np.ndarray:
        """(24,) hourly factors of the base load (before scale and noise)."""
        profile = IEEE_RTS_WINTER_WEEKDAY if self.base_load_profile is None else self.base_load_profile
        return np.asarray(profile, dtype=np.float64)

    def ext_grid_emission_profile_g_per_kwh(self) -> np.ndarray:
        """(24,) hourly carbon intensity of the external grid."""
        return np.broadcast_to(np.asarray(self.ext_grid_emission_g_per_kwh, dtype=np.float64), (HOURS_PER_DAY,)).copy()

    def emission_bounds_g_per_kwh(self) -> tuple[float, float]:
        """The range of the supply's carbon intensity: between the smallest and largest factor."""
        factors = np.append(self.ext_grid_emission_profile_g_per_kwh(), self.sgen_emission_g_per_kwh)
        return float(factors.min()), float(factors.max())

    def cost_weights(self) -> CostWeights:
        return CostWeights(
            voltage=self.cost_weight_voltage,
            line=self.cost_weight_line,
            carbon=self.cost_weight_carbon,
            nonconvergence=self.nonconvergence_cost,
        )
