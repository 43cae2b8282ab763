"""A slow, obviously-correct reference of the market: the seed's seven sub-steps as a plain
loop over sub-steps and EVs, one batch member at a time.

It covers both driver models (utility, with occupancy counting queued EVs; generalised
cost, with the expected wait only where a queue exists), all three ``when_full`` modes
(first come, first served through a per-charger list of free times), origin zones with
travel times, and each admitted driver's consumer surplus.

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
    waiting_h: list
    consumer_surplus: float | None


class ReferenceMarket:
    """One market (one batch member), stepped sub-step by sub-step."""

    def __init__(self, cfg: MarketConfig, elec_hourly: np.ndarray):
        self.cfg = cfg
        self.elec_hourly = [float(x) for x in elec_hourly]  # episode's hourly series
        self.first_hour = cfg.start_s // 3600
        self.sessions: list[Session] = []
        self.charger_free_s = [[0.0] * c for c in cfg.chargers_per_station]  # when each charger is next free
        self.substep = 0
        self.revenue_ema = [0.0] * cfg.n_stations
        self.cost_ema = [0.0] * cfg.n_stations
        self.alpha = 1.0 - math.exp(-cfg.dt_s / (cfg.ema_time_constant_h * 3600.0))

    def elec_at(self, t_s: float) -> float:
        return self.elec_hourly[int((self.cfg.start_s + t_s) // 3600) - self.first_hour]

    def run_period(self, prices, offsets, noise, dwell_s, energy_kwh, origins=None, travel_h=None) -> PeriodResult:
        """``offsets`` (M,) arrival times after the period start, ascending; ``noise`` (M, N+1),
        ``dwell_s`` / ``energy_kwh`` (M,) per event; ``origins`` (M,) origin zones and
        ``travel_h`` (Z, N) travel times in hours, or None (the config's ``travel_time_min``)."""
        cfg = self.cfg
        n, dt = cfg.n_stations, cfg.dt_s
        cap = cfg.chargers_per_station
        queue = cfg.when_full == "queue"
        places = [c + (w if queue else 0) for c, w in zip(cap, cfg.waiting_spaces)]
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
            waiting_h=[0.0] * n,
            consumer_surplus=0.0 if self._surplus_defined() else None,
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
                e_want = float(energy_kwh[m])
                travel = [self._travel_h(k, origins, travel_h, m) for k in range(n)]
                util, waits, outside = self._utilities(prices, occ, travel, e_want, noise[m])
                if all(u == -math.inf for u in util):  # every station unreachable or over the budget
                    res.gave_up += 1
                    continue
                first = max(range(n), key=lambda k: util[k])
                if outside is not None and outside > util[first]:
                    res.gave_up += 1
                    continue
                target = first
                if occ[first] >= places[first]:
                    target = None
                    if cfg.when_full == "reroute" or cfg.driver_cost == "generalised":
                        # choose again among the free stations and the outside option
                        options = [(util[k], k) for k in range(n) if occ[k] < places[k] and util[k] > -math.inf]
                        if outside is not None:
                            options.append((outside, None))
                        if options:
                            target = max(options, key=lambda o: o[0])[1]
                if target is None:
                    res.blocked[first] += 1
                    continue
                res.admitted[target] += 1
                d = float(dwell_s[m])
                free = self.charger_free_s[target]
                i = min(range(len(free)), key=lambda j: free[j])
                start = max(t_a, free[i])  # first come, first served
                free[i] = start + d
                self.sessions.append(Session(target, prices[target], e_want, start, start + d))
                res.booked_profit[target] += self._booked(target, prices[target], start, e_want, d)
                res.waiting_h[target] += (start - t_a) / 3600.0
                if res.consumer_surplus is not None:
                    res.consumer_surplus = self._surplus(
                        res.consumer_surplus, target, prices[target], util[target], outside, waits[target],
                        (start - t_a) / 3600.0, start, e_want, d,
                    )  # fmt: skip
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
        res.occupancy_end = [min(sum(1 for s in self.sessions if s.station == k), cap[k]) / cap[k] for k in range(n)]
        return res

    def _travel_h(self, k, origins, travel_h, m) -> float:
        if travel_h is not None:
            return float(travel_h[int(origins[m])][k])
        return 0.0 if self.cfg.travel_time_min is None else self.cfg.travel_time_min[k] / 60.0

    def _utilities(self, prices, occ, travel, energy, noise):
        """Each station's realised utility, the wait expected there (h), the outside option's utility."""
        cfg = self.cfg
        n = cfg.n_stations
        cap = cfg.chargers_per_station
        util, waits = [], []
        if cfg.driver_cost == "utility":
            for k in range(n):
                u = cfg.station_utility[k] - cfg.price_sensitivity * prices[k]
                u -= cfg.congestion_sensitivity * occ[k] / cap[k]  # occupancy: queued EVs count
                u -= cfg.travel_time_sensitivity * travel[k] * 60.0
                util.append(-math.inf if math.isinf(travel[k]) else u + noise[k])
                waits.append(0.0)
            out = None if cfg.outside_option_utility is None else cfg.outside_option_utility + noise[n]
            return util, waits, out
        mean_h, scv = cfg.dwell_time_mean_h, cfg.dwell_time_cv**2
        for k in range(n):
            wait = 0.0
            if cfg.when_full == "queue" and occ[k] >= cap[k]:  # M/G/c, Allen-Cunneen, given the EVs present
                wait = ((1.0 + scv) / 2.0 + occ[k] - cap[k]) * mean_h / cap[k]
            cost = prices[k] * energy + cfg.value_of_time_per_h * (cfg.travel_time_weight * travel[k] + wait)
            excluded = math.isinf(travel[k]) or (cfg.time_budget_h is not None and travel[k] + wait > cfg.time_budget_h)
            util.append(-math.inf if excluded else -cost + noise[k])
            waits.append(wait)
        out = None
        if cfg.outside_option_price_per_kwh is not None:
            p0, t0 = cfg.outside_option_price_per_kwh, cfg.outside_option_time_h
            out = -(p0 * energy + cfg.value_of_time_per_h * t0) + noise[n]
        return util, waits, out

    def _surplus_defined(self) -> bool:
        cfg = self.cfg
        if cfg.driver_cost == "generalised":
            return cfg.outside_option_price_per_kwh is not None
        return cfg.outside_option_utility is not None and cfg.price_sensitivity > 0

    def _surplus(self, total, k, price, utility, outside, expected_wait_h, wait_h, start_s, energy, dwell):
        """Add an admitted EV's surplus over the outside option, currency: its utility over the
        outside option's in money, its actual wait for the expected one, its bill for what it gets."""
        cfg = self.cfg
        if cfg.driver_cost == "utility":
            gain = (utility - outside) * energy / cfg.price_sensitivity
        else:
            gain = utility - outside + cfg.value_of_time_per_h * (expected_wait_h - wait_h)
        p_kw = cfg.charger_power_kw[k]
        end = min(start_s + min(energy / p_kw * 3600.0, dwell), float(cfg.horizon_s))
        received = p_kw * max(end - start_s, 0.0) / 3600.0
        return total + gain + price * (energy - received)

    def _booked(self, k: int, price: float, start_s: float, energy: float, dwell: float) -> float:
        """Whole-session profit, integrating the wholesale price over the charging time second
        by second-chunk (hour boundaries split the interval)."""
        cfg = self.cfg
        p_kw = cfg.charger_power_kw[k]
        end = min(start_s + min(energy / p_kw * 3600.0, dwell), float(cfg.horizon_s))
        if end <= start_s:  # queued past the horizon: nothing booked
            return 0.0
        revenue = price * p_kw * (end - start_s) / 3600.0
        cost, t = 0.0, start_s
        while t < end:
            next_hour = (math.floor((cfg.start_s + t) / 3600.0) + 1) * 3600.0 - cfg.start_s
            t2 = min(end, next_hour)
            cost += self.elec_at(t) * p_kw * (t2 - t) / 3600.0 / cfg.charging_efficiency
            cost += cfg.marginal_cost_per_kwh[k] * p_kw * (t2 - t) / 3600.0
            t = t2
        return revenue - cost
