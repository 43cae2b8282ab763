"""``MarketWorld``: the stateful holder of a batched market (state + random streams).

The world owns the dynamics. It knows nothing of agents, actions or observations: it
takes prices in currency/kWh and returns what happened. Scenarios in ``evprice.envs`` put
agents, observation layouts and rewards around it.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from evprice.core.rng import spawn_streams
from evprice.core.snapshot import FrozenDict, freeze, thaw
from evprice.market.config import MarketConfig
from evprice.market.draws import STREAMS, SessionSampler, sample_elec_price, sample_period_draws
from evprice.market.dynamics import advance_period, initial_state, run_period
from evprice.market.expected import advance_period_expected
from evprice.market.kernel import StreamAddresses
from evprice.market.params import MarketParams
from evprice.market.state import MarketState, PeriodDraws, PeriodOutcome


def _tile(a: np.ndarray, copies: int) -> np.ndarray:
    """Repeat ``a`` (E, ...) ``copies`` times along the batch axis: (copies * E, ...)."""
    return a if copies == 1 else np.tile(a, (copies,) + (1,) * (a.ndim - 1))


@dataclass(frozen=True)
class WorldSnapshot:
    """The whole state of a :class:`MarketWorld`, as a value (:meth:`MarketWorld.snapshot`).

    ``state`` holds read-only copies of the market's arrays; ``streams`` each named random
    stream's ``bit_generator.state``, frozen. Picklable."""

    batch_size: int
    n_scenarios: int
    state: MarketState
    streams: FrozenDict


class MarketWorld:
    """A batch of ``batch_size`` independent markets that advance in lockstep.

    ``reset(seed)`` seeds the named random streams (``arrivals``, ``choice``, ``sessions``,
    ``exogenous``) from ``seed``; ``reset()`` without a seed continues the streams, so
    successive episodes differ but the whole run stays reproducible from the first seed.

    ``session_sampler`` (e.g. from :mod:`evprice.data`) draws each EV's energy and dwell
    instead of the config's independent distributions.

    With ``scenarios=E`` the random inputs are drawn for ``E`` members and member ``b``
    replays those of member ``b % E`` (``batch_size`` must be a multiple of ``E``): common
    random numbers, for comparing prices on identical demand.
    """

    def __init__(
        self,
        config: MarketConfig,
        batch_size: int = 1,
        scenarios: int | None = None,
        session_sampler: SessionSampler | None = None,
    ) -> None:
        if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
            raise ValueError(f"batch_size={batch_size!r} is invalid: expected a positive integer")
        if scenarios is not None and (
            isinstance(scenarios, bool)
            or not isinstance(scenarios, (int, np.integer))
            or scenarios < 1
            or batch_size % scenarios
        ):
            raise ValueError(
                f"scenarios={scenarios!r} is invalid: expected a positive divisor of batch_size={batch_size}"
            )
        if config.sessions != "independent" and session_sampler is None:
            raise ValueError(
                f"sessions={config.sessions!r} needs a session_sampler: build scenarios with evprice.make / "
                "make_env (evprice.envs.sessions.resolve_sessions), or pass the sampler"
            )
        self.config = config
        self.session_sampler = session_sampler
        self.params = MarketParams.from_config(config)
        self.batch_size = int(batch_size)
        self._scenarios = self.batch_size if scenarios is None else int(scenarios)
        self._copies = self.batch_size // self._scenarios
        self._rngs: StreamAddresses | None = None
        self._state: MarketState | None = None

    @property
    def state(self) -> MarketState:
        if self._state is None:
            raise RuntimeError("the market has not been reset: call reset() first")
        return self._state

    @property
    def n_scenarios(self) -> int:
        """Distinct random scenarios in the batch (``batch_size`` unless common random numbers)."""
        return self._scenarios

    def tile(self, per_scenario: np.ndarray) -> np.ndarray:
        """Spread (n_scenarios, ...) random inputs over the batch: member ``b`` gets row ``b % n_scenarios``."""
        return _tile(per_scenario, self._copies)

    @property
    def done(self) -> bool:
        """Whether the episode has reached its horizon."""
        return self.state.period >= self.params.n_periods

    def reset(self, seed: int | None = None) -> MarketState:
        if seed is not None or self._rngs is None:  # the compiled draws call the generators by address
            self._rngs = StreamAddresses(spawn_streams(seed, STREAMS))
        elec = sample_elec_price(self.params, self._scenarios, self._rngs["exogenous"])
        self._state = initial_state(self.params, self.tile(elec))
        return self._state

    def snapshot(self) -> WorldSnapshot:
        """The market's state and every random stream's position, as an immutable value."""
        state = self.state  # raises before the first reset
        return WorldSnapshot(
            batch_size=self.batch_size,
            n_scenarios=self._scenarios,
            state=MarketState(**{f.name: freeze(getattr(state, f.name)) for f in fields(MarketState)}),
            streams=FrozenDict({name: freeze(g.bit_generator.state) for name, g in self._rngs.items()}),
        )

    def restore(self, snapshot: WorldSnapshot) -> None:
        """Put back the state and the streams of ``snapshot`` (taken from a world of the same
        config and batch): the periods that follow repeat those that followed it, bit for bit.

        The streams are set in place, so the compiled draws keep calling the same generators."""
        if not isinstance(snapshot, WorldSnapshot):
            raise TypeError(f"snapshot must be a WorldSnapshot, got {type(snapshot).__name__}")
        if (snapshot.batch_size, snapshot.n_scenarios) != (self.batch_size, self._scenarios):
            raise ValueError(
                f"the snapshot is of a world of batch_size={snapshot.batch_size} with {snapshot.n_scenarios} "
                f"scenarios; this one has batch_size={self.batch_size} with {self._scenarios}"
            )
        if set(snapshot.streams) != set(STREAMS):
            raise ValueError(
                f"the snapshot's streams {sorted(snapshot.streams)} are not this world's {sorted(STREAMS)}"
            )
        if self._rngs is None:
            self._rngs = StreamAddresses(spawn_streams(0, STREAMS))
        for name, position in snapshot.streams.items():
            self._rngs[name].bit_generator.state = thaw(position)
        self._state = MarketState(**{f.name: thaw(getattr(snapshot.state, f.name)) for f in fields(MarketState)})

    def step(self, price_per_kwh: np.ndarray, travel_time_h: np.ndarray | None = None) -> PeriodOutcome:
        """Advance one pricing period at ``price_per_kwh`` (B, N), already inside the bounds.

        ``travel_time_h`` (Z, N) or (B, Z, N): travel time from each origin zone to each station
        during the period (the scenario's road network supplies it), or None.
        """
        state = self.state
        z = self.params.origin_cdf.shape[1]
        if travel_time_h is not None:
            travel_time_h = np.asarray(travel_time_h, dtype=np.float64)
            if travel_time_h.shape[-2:] != (z, self.params.n_stations) or travel_time_h.ndim not in (2, 3):
                raise ValueError(
                    f"travel_time_h has shape {travel_time_h.shape}: expected ({z}, {self.params.n_stations}) "
                    f"or (batch, {z}, {self.params.n_stations}) (origin zones x stations), in hours"
                )
            bad = ~(travel_time_h >= 0)  # NaN fails too
            if bad.any():
                where = tuple(int(i) for i in np.argwhere(bad)[0])
                raise ValueError(
                    f"travel_time_h[{where}] = {float(travel_time_h[where])!r} is invalid: expected hours >= 0 "
                    "everywhere (inf = unreachable)"
                )
        elif z > 1:
            raise ValueError(f"this market has {z} origin zones (origin_weights): pass travel_time_h each period")
        if state.period >= self.params.n_periods:
            raise RuntimeError("the episode is over (horizon reached): call reset() first")
        if self.config.demand == "expected":
            self._state, outcome = advance_period_expected(self.params, state, price_per_kwh)
        elif self.session_sampler is None and self._copies == 1:  # draws and period in one compiled call
            self._state, outcome = run_period(self.params, state, price_per_kwh, self._rngs, travel_time_h)
        else:
            draws = sample_period_draws(self.params, state.period, self._scenarios, self._rngs, self.session_sampler)
            if self._copies > 1:
                draws = PeriodDraws(*(self.tile(getattr(draws, f.name)) for f in fields(PeriodDraws)))
            self._state, outcome = advance_period(self.params, state, price_per_kwh, draws, travel_time_h)
        return outcome
