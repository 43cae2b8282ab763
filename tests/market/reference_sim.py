"""A slow, obviously-correct reference of the market: the seed's seven sub-steps as a plain
loop over sub-steps and EVs, one batch member at a time.

It shares nothing with ``evprice.market.dynamics`` except the inputs (config, random
draws, prices). Tests feed both the same draws and compare every number.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from evprice.market.config import MarketConfig


@dataclass
class Session:
    station: int
    price: float
    energy_left_kwh: float
    start_s: float
    depart_s: float


@dataclass
class PeriodResult:
    energy_kwh: list
    energy_kwh_per_substep: list  # [station][substep]
    revenue: list
    energy_cost: list
    fixed_cost: list
    admitted: list
    blocked: list
    utilization: list
    arrivals: int
    gave_up: int
    booked_profit: list
    revenue_ema: list
    cost_ema: list
    occupancy_end: list


class ReferenceMarket:
    """One market (one batch member), stepped sub-step by sub-step."""

    def __init__(self, cfg: MarketConfig, elec_hourly: np.ndarray):
        self.cfg = cfg
        self.elec_hourly = [float(x) for x in elec_hourly]  # episode's hourly series
        self.first_hour = cfg.start_s // 3600
        self.sessions: list[Session] = []
        self.substep = 0
        self.revenue_ema = [0.0] * cfg.n_stations
        self.cost_ema = [0.0] * cfg.n_stations
        self.alpha = 1.0 - math.exp(-cfg.dt_s / (cfg.ema_time_constant_h * 3600.0))

    def elec_at(self, t_s: float) -> float:
        return self.elec_hourly[int((self.cfg.start_s + t_s) // 3600) - self.first_hour]

    def run_period(self, prices, offsets, noise, dwell_s, energy_kwh) -> PeriodResult:
        """``offsets`` (M,) arrival times after the period start, ascending; ``noise`` (M, N+1),
        ``dwell_s`` / ``energy_kwh`` (M,) per event."""
        cfg = self.cfg
        n, dt = cfg.n_stations, cfg.dt_s
        cap = cfg.chargers_per_station
        res = PeriodResult(
            energy_kwh=[0.0] * n,
            energy_kwh_per_substep=[[] for _ in range(n)],
            revenue=[0.0] * n,
            energy_cost=[0.0] * n,
            fixed_cost=[0.0] * n,
            admitted=[0] * n,
            blocked=[0] * n,
            utilization=[0.0] * n,
            arrivals=len(offsets),
            gave_up=0,
            booked_profit=[0.0] * n,
            revenue_ema=[],
            cost_ema=[],
            occupancy_end=[],
        )
        t0 = self.substep * dt
        event = 0
        for _ in range(cfg.substeps_per_period):
            w0, w1 = self.substep * dt, (self.substep + 1) * dt
            # 1. public market signals
            elec = self.elec_at(w0)
            # 2. arrivals of this sub-step
            arriving = []
            while event < len(offsets) and t0 + offsets[event] < w1:
                arriving.append(event)
                event += 1
            # 3. allocate, one EV at a time at its arrival instant
            for m in arriving:
                t_a = t0 + float(offsets[m])
                occ = [sum(1 for s in self.sessions if s.station == k and s.depart_s > t_a) for k in range(n)]
                util = []
                for k in range(n):
                    u = cfg.station_utility[k] - cfg.price_sensitivity * prices[k]
                    u -= cfg.congestion_sensitivity * occ[k] / cap[k]
                    if cfg.travel_time_min is not None:
                        u -= cfg.travel_time_sensitivity * cfg.travel_time_min[k]
                    util.append(u + noise[m][k])
                first = max(range(n), key=lambda k: util[k])
                if cfg.outside_option_utility is not None and cfg.outside_option_utility + noise[m][n] > util[first]:
                    res.gave_up += 1
                    continue
                target = first
                if occ[first] >= cap[first]:
                    target = None
                    if cfg.when_full == "reroute":
                        # choose again among the free stations and the outside option
                        options = [(util[k], k) for k in range(n) if occ[k] < cap[k]]
                        if cfg.outside_option_utility is not None:
                            options.append((cfg.outside_option_utility + noise[m][n], None))
                        if options:
                            target = max(options, key=lambda o: o[0])[1]
                if target is None:
                    res.blocked[first] += 1
                    continue
                res.admitted[target] += 1
                d, e = float(dwell_s[m]), float(energy_kwh[m])
                self.sessions.append(Session(target, prices[target], e, t_a, t_a + d))
                res.booked_profit[target] += self._booked(target, prices[target], t_a, e, d)
            # 4. charging sessions and departures
            energy = [0.0] * n
            revenue = [0.0] * n
            for s in self.sessions:
                a, b = max(w0, s.start_s), min(w1, s.depart_s)
                if b <= a:
                    continue
                res.utilization[s.station] += b - a
                p_kw = cfg.charger_power_kw[s.station]
                e = p_kw * min(b - a, s.energy_left_kwh / p_kw * 3600.0) / 3600.0
                s.energy_left_kwh -= e
                energy[s.station] += e
                revenue[s.station] += s.price * e
            self.sessions = [s for s in self.sessions if s.depart_s > w1]
            # 5. revenue, cost, profit
            for k in range(n):
                cost = (elec / cfg.charging_efficiency + cfg.marginal_cost_per_kwh[k]) * energy[k]
                fixed = cfg.fixed_cost_per_h[k] * dt / 3600.0
                res.energy_kwh[k] += energy[k]
                res.energy_kwh_per_substep[k].append(energy[k])
                res.revenue[k] += revenue[k]
                res.energy_cost[k] += cost
                res.fixed_cost[k] += fixed
                # 6. profit windows (rates per hour)
                self.revenue_ema[k] += self.alpha * (revenue[k] / (dt / 3600.0) - self.revenue_ema[k])
                self.cost_ema[k] += self.alpha * ((cost + fixed) / (dt / 3600.0) - self.cost_ema[k])
            # 7. advance time
            self.substep += 1
        assert event == len(offsets)
        for k in range(n):
            res.utilization[k] /= cap[k] * cfg.action_period_s
            res.booked_profit[k] -= res.fixed_cost[k]
        res.revenue_ema = list(self.revenue_ema)
        res.cost_ema = list(self.cost_ema)
        res.occupancy_end = [sum(1 for s in self.sessions if s.station == k) / cap[k] for k in range(n)]
        return res

    def _booked(self, k: int, price: float, start_s: float, energy: float, dwell: float) -> float:
        """Whole-session profit, integrating the wholesale price over the charging time second
        by second-chunk (hour boundaries split the interval)."""
        cfg = self.cfg
        p_kw = cfg.charger_power_kw[k]
        end = min(start_s + min(energy / p_kw * 3600.0, dwell), float(cfg.horizon_s))
        revenue = price * p_kw * (end - start_s) / 3600.0
        cost, t = 0.0, start_s
        while t < end:
            next_hour = (math.floor((cfg.start_s + t) / 3600.0) + 1) * 3600.0 - cfg.start_s
            t2 = min(end, next_hour)
            cost += self.elec_at(t) * p_kw * (t2 - t) / 3600.0 / cfg.charging_efficiency
            cost += cfg.marginal_cost_per_kwh[k] * p_kw * (t2 - t) / 3600.0
            t = t2
        return revenue - cost
