"""The road network as a coupling: drivers' travel times by shortest paths under the clock's
congestion.

Charging requests start at the nodes of a road network (the market's origin zones, one per
node). Each period the travel times from every node to every station are the shortest
paths under that period's congestion (:class:`evprice.transport.TravelTimes`, recomputed
only when the congestion changes): document 2's saturation by hour of day and its speed
law, or the BPR law with an hourly volume/capacity profile. The congestion of a period is
that of the hour of day in which it starts, whatever ``action_period_s`` is.

It adds no feature, cost or state of its own (the travel times follow from the clock).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np

from evprice.core.timing import HOURS_PER_DAY, SECONDS_PER_HOUR
from evprice.envs.coupling import Coupling, PeriodInputs
from evprice.transport import TravelTimes, doc2_saturation_by_hour


class RoadCoupling(Coupling):
    """Drivers routed on ``config.make_network()`` to stations at ``config.station_nodes``
    (a :class:`~evprice.envs.coupled_network.CoupledNetworkConfig`, or its fields)."""

    name = "roads"
    sets_travel_times = True

    def __init__(self, env: Any) -> None:
        super().__init__(env)
        config = env.config
        self.network = config.make_network()
        self.station_node_indices = tuple(self.network.index_of(v) for v in config.station_nodes)
        self.travel_times = TravelTimes(self.network, self.station_node_indices)
        by_hour = config.road_saturation_by_hour
        self._saturation = doc2_saturation_by_hour() if by_hour is None else np.array(by_hour)  # (24, 3)

    def hour_of_day(self, period: int) -> int:
        """The clock hour (0-23) in which ``period`` starts."""
        p = self.env.params
        return int((p.start_s + period * self.env.config.action_period_s) // SECONDS_PER_HOUR % HOURS_PER_DAY)

    def congestion(self, period: int) -> np.ndarray | float:
        """The roads' congestion during ``period``, by the hour of day in which it starts:
        saturation per road class (doc2 speed law) or the volume/capacity ratio of every link (BPR)."""
        hour = self.hour_of_day(period)
        if self.network.congestion_law == "doc2_speed":
            return self._saturation[hour]
        return float(self.env.config.road_volume_capacity_by_hour[hour])

    def travel_time_h(self, period: int) -> np.ndarray:
        """(Z, N) travel times from each node to each station during ``period``, hours."""
        return self.travel_times.times_h(self.congestion(period))

    def inputs(self, inputs: PeriodInputs) -> PeriodInputs:
        return replace(inputs, travel_time_h=self.travel_time_h(self.env.period))
