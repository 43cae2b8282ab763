"""``LogitBertrand-v0``: logit price competition, the benchmark of algorithmic collusion.

Each period a unit of demand (1 kWh) is split among the stations and an outside option by
multinomial logit,

    q_i = exp((a_i - p_i) / mu) / (sum_j exp((a_j - p_j) / mu) + exp(a0 / mu)),

and station ``i`` earns ``(p_i - c_i) q_i``. With ``demand="expected"`` (default) that is
exactly what happens every period; with ``demand="sampled"`` the same market is simulated
(Poisson arrivals of ``arrivals_per_period`` EVs, each buying ``1 / arrivals_per_period``
kWh, sampled logit choices, ``chargers_per_station`` chargers each EV holds briefly) and
agrees in expectation. With ``objective="social_welfare"`` every station's reward is the
period's welfare, the consumer surplus ``mu ln(sum_j exp((a_j - p_j) / mu) + exp(a0 / mu))
- a0`` plus the profits (:mod:`evprice.market.welfare`).

Defaults: the baseline of the algorithmic-collusion literature (Calvano et al. 2020): two
stations, ``a_i = 2``, ``a0 = 0``, ``mu = 0.25``, ``c_i = 1``; prices span the Nash and
joint-profit prices with a margin of ``price_margin`` (10%) of their distance on each
side; rewards are profits (``reward_scale_per_period = 1``); prices are public
(``observability="full"``); stations price simultaneously (``leader=None``; a leader
commits its price one period ahead, see :mod:`evprice.envs.market_env`).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

import numpy as np

from evprice.core.config import ConfigError
from evprice.core.declared import ConfigMixin, choice, config_field, integer, number
from evprice.envs.market_env import MarketEnv
from evprice.envs.registry import EnvSpec, register
from evprice.market.config import MarketConfig
from evprice.market.limits import (
    DEMAND_MODES,
    MAX_ARRIVAL_RATE_PER_H,
    MAX_HORIZON_H,
    MAX_HORIZON_S,
    MAX_PRICE_PER_KWH,
    MAX_UTILITY,
    OBJECTIVES,
    OBSERVABILITY,
    PRICE_REASON,
    REWARDS,
    UTILITY_REASON,
)
from evprice.market.profiles import SECONDS_PER_HOUR
from evprice.market.protocol import (
    PROTOCOL_FIELDS,
    deviation_cost_field,
    mediator_reward_field,
    message_dim_field,
    n_symbols_field,
    protocol_field,
)
from evprice.market.theory import LogitMarket, bertrand_nash, joint_optimum

DWELL_PERIODS_PER_EV = 0.2
"""Sampled mode: an EV holds its charger ``0.2 / arrivals_per_period`` periods (3 min for one
arrival per 15-min period), so the offered load stays at 0.2 Erlang whatever the market
size and blocking is negligible (B(4, 0.2) = 5.5e-5)."""
CHARGE_TIME_SHARE = 1.0 / 3.0
"""The charger power is set so that an EV's energy takes a third of its dwell: every EV
receives its whole ``1 / arrivals_per_period`` kWh, whatever the period length."""

_market = partial(config_field, section="market")
_learning = partial(config_field, section="learning")


@dataclass(frozen=True)
class LogitBertrandConfig(ConfigMixin):
    """Configuration of ``LogitBertrand-v0`` (prices and costs in currency per kWh)."""

    CONFIG_NAME = "LogitBertrand-v0"

    n_stations: int = _market(
        2,
        "1",
        "number of stations",
        integer(1, 1000, reason="the game's payoffs and theory solve over every station; 1,000 is far beyond a market"),
    )
    a: float | tuple[float, ...] = _market(
        2.0,
        "currency/kWh",
        "quality of each station (one number, or one per station)",
        number(
            -MAX_PRICE_PER_KWH, MAX_PRICE_PER_KWH, shape="station", reason="a quality in price units; " + PRICE_REASON
        ),
    )
    a0: float = _market(
        0.0,
        "currency/kWh",
        "quality of the outside option",
        number(-MAX_PRICE_PER_KWH, MAX_PRICE_PER_KWH, reason="a quality in price units; " + PRICE_REASON),
    )
    mu: float = _market(
        0.25,
        "currency/kWh",
        "logit price scale (horizontal differentiation), > 0",
        number(0.0, MAX_UTILITY, low_open=True, reason="the market's noise scale; " + UTILITY_REASON),
    )
    c: float | tuple[float, ...] = _market(
        1.0,
        "currency/kWh",
        "marginal cost of each station (one number, or one per station)",
        number(-MAX_PRICE_PER_KWH, MAX_PRICE_PER_KWH, shape="station", reason="a subsidy may make it negative"),
    )
    price_min: float | tuple[float, ...] | None = _market(
        None,
        "currency/kWh",
        "lowest price; None = Nash price minus price_margin x (joint - Nash)",
        number(0.0, MAX_PRICE_PER_KWH, shape="station", optional=True, reason=PRICE_REASON),
    )
    price_max: float | tuple[float, ...] | None = _market(
        None,
        "currency/kWh",
        "highest price; None = joint price plus price_margin x (joint - Nash)",
        number(0.0, MAX_PRICE_PER_KWH, shape="station", optional=True, reason=PRICE_REASON),
    )
    price_margin: float = _market(
        0.1,
        "1",
        "margin of the default price range, as a fraction of joint - Nash",
        number(0.0, 10.0, reason="ten times the Nash-joint gap already spans prices no station would post"),
    )
    demand: str = _market(
        "expected", "-", "'expected' (deterministic logit shares) or 'sampled' (simulated market)", choice(DEMAND_MODES)
    )
    arrivals_per_period: float = _market(
        1.0,
        "EV",
        "sampled mode: mean Poisson arrivals per period (each buys 1/this kWh)",
        number(
            0.0,
            lambda c: MAX_ARRIVAL_RATE_PER_H * c.action_period_s / SECONDS_PER_HOUR,
            low_open=True,
            reason="the market's cap of 10,000 EV/h over one period",
        ),
    )
    chargers_per_station: int = _market(
        4,
        "1",
        "sampled mode: chargers per station",
        integer(1, 10_000, reason="the largest charging parks hold a few hundred chargers"),
    )
    action_period_s: int = _market(
        900,
        "s",
        "time between pricing decisions",
        integer(1, MAX_HORIZON_S, reason="no longer than the longest episode"),
    )
    dt_s: int = _market(
        60,
        "s",
        "internal step of the sampled market",
        integer(1, SECONDS_PER_HOUR, reason="hourly arrival rates change on the hour"),
    )
    horizon_h: float = _market(
        24.0,
        "h",
        "episode length",
        number(0.0, MAX_HORIZON_H, low_open=True, reason="a leap year; longer runs are several episodes"),
    )
    objective: str = _learning(
        "profit",
        "-",
        "'profit' (rewards by reward below) or 'social_welfare' (consumer surplus + profit, every station's reward)",
        choice(OBJECTIVES),
    )
    reward: str = _learning(
        "team", "-", "'team', 'individual', 'period' or 'ema'; rewards are profits (scale 1)", choice(REWARDS)
    )
    observability: str = _learning(
        "full", "-", "'full' (every station's price is public) or 'partial'", choice(OBSERVABILITY)
    )
    leader: str | None = _market(
        None, "-", "Stackelberg leader ('station_k'): commits its price one period ahead; None = simultaneous"
    )
    currency: str = _market("CU", "-", "currency unit label")
    protocol: str = protocol_field()
    message_dim: int = message_dim_field()
    n_symbols: int = n_symbols_field()
    deviation_cost: float = deviation_cost_field()
    mediator_reward: str = mediator_reward_field()

    def __post_init__(self) -> None:
        self.check_declared()
        lo, hi = self.price_bounds()
        if (lo >= hi).any():
            raise ConfigError(
                f"price_min={self.price_min!r} and price_max={self.price_max!r} are invalid: expected price_min < "
                f"price_max for every station; they resolve to {lo.round(4).tolist()} and {hi.round(4).tolist()} "
                "(an unset bound defaults to the Nash / joint price widened by price_margin)"
            )
        self.market_config()  # validates the rest (time steps) with the market's messages

    def logit_market(self) -> LogitMarket:
        """The static market: one kWh of demand per period."""
        return LogitMarket(a=np.array(self.a), c=np.array(self.c), mu=self.mu, a0=self.a0)

    def price_bounds(self) -> tuple[np.ndarray, np.ndarray]:
        """``(price_min, price_max)`` per station: as set, or by default the Nash and joint prices
        widened by ``price_margin`` of their distance on each side."""
        market = self.logit_market()
        nash, joint = bertrand_nash(market).prices, joint_optimum(market).prices
        lo, hi = np.minimum(nash, joint), np.maximum(nash, joint)
        width = np.where(hi - lo > 0, hi - lo, self.mu)
        default_lo, default_hi = np.maximum(lo - self.price_margin * width, 0.0), hi + self.price_margin * width
        return (
            default_lo if self.price_min is None else np.array(self.price_min),
            default_hi if self.price_max is None else np.array(self.price_max),
        )

    def market_config(self) -> MarketConfig:
        """The simulated market this scenario runs on."""
        lo, hi = self.price_bounds()
        period_h = self.action_period_s / SECONDS_PER_HOUR
        energy_kwh = 1.0 / self.arrivals_per_period
        dwell_h = DWELL_PERIODS_PER_EV * period_h / self.arrivals_per_period
        try:
            return MarketConfig(
                n_stations=self.n_stations,
                chargers_per_station=self.chargers_per_station,
                charger_power_kw=energy_kwh / (CHARGE_TIME_SHARE * dwell_h),
                currency=self.currency,
                price_min=lo.tolist(),
                price_max=hi.tolist(),
                dt_s=self.dt_s,
                action_period_s=self.action_period_s,
                horizon_h=self.horizon_h,
                arrival_rate_per_h=self.arrivals_per_period / period_h,
                dwell_time_mean_h=dwell_h,
                dwell_time_cv=0.0,
                energy_demand_mean_kwh=energy_kwh,
                energy_demand_cv=0.0,
                demand=self.demand,
                station_utility=self.a,
                price_sensitivity=1.0,
                congestion_sensitivity=0.0,
                noise="gumbel",
                noise_scale=self.mu,
                outside_option_utility=self.a0,
                elec_price_per_kwh=[0.0] * 24,
                elec_price_noise_std_per_kwh=0.0,
                charging_efficiency=1.0,
                marginal_cost_per_kwh=self.c,
                fixed_cost_per_h=0.0,
                objective=self.objective,
                reward=self.reward,
                reward_scale_per_period=1.0,
                observability=self.observability,
                leader=self.leader,
                **{name: getattr(self, name) for name in PROTOCOL_FIELDS},
            )
        except ConfigError as err:
            raise ConfigError(f"LogitBertrand-v0: {err}") from None


def make_logit_bertrand(
    config: LogitBertrandConfig, num_envs: int, env_id: str, scenarios: int | None = None, couplings=()
) -> MarketEnv:
    """The logit market this config stands for (``couplings``: added to it, as by any scenario)."""
    market = config.market_config()
    return MarketEnv(market, num_envs, env_id, scenario=config, scenarios=scenarios, couplings=couplings)


register(
    EnvSpec(
        env_id="LogitBertrand-v0",
        description="logit price competition (Calvano et al. baseline): expected or sampled demand",
        config_cls=LogitBertrandConfig,
        factory=make_logit_bertrand,
    )
)
