"""Rewards worked out by hand on a constructed outcome."""

import numpy as np
import pytest

from evprice.market.config import MarketConfig
from evprice.market.params import MarketParams
from evprice.market.reward import compute_reward
from evprice.market.state import MarketState, PeriodOutcome


def make(reward):
    # station scales: 4 x 30 kW x 0.25 h x 2.0 = 60 and 2 x 50 kW x 0.25 h x 3.0 = 75
    cfg = MarketConfig(reward=reward, chargers_per_station=[4, 2], charger_power_kw=[30, 50], price_max=[2.0, 3.0])
    return MarketParams.from_config(cfg)


def outcome():
    z = np.zeros((1, 2))
    return PeriodOutcome(
        price_per_kwh=z,
        energy_kwh=z,
        energy_kwh_per_substep=np.zeros((1, 2, 15)),
        revenue=np.array([[30.0, 10.0]]),
        energy_cost=np.array([[12.0, 4.0]]),
        fixed_cost=np.array([[1.0, 1.0]]),
        admitted=z,
        blocked=z,
        utilization=z,
        arrivals=np.zeros(1),
        gave_up=np.zeros(1),
        waiting_h=z,
        booked_profit=np.array([[7.0, -3.0]]),
        consumer_surplus=np.array([12.0]),
    )


def state():
    z = np.zeros((1, 2))
    return MarketState(
        period=1,
        price_per_kwh=z,
        slot_depart_s=np.zeros((1, 2, 4)),
        slot_start_s=np.zeros((1, 2, 4)),
        slot_charge_end_s=np.zeros((1, 2, 4)),
        slot_price_per_kwh=np.zeros((1, 2, 4)),
        revenue_ema_per_h=np.array([[48.0, 30.0]]),
        cost_ema_per_h=np.array([[18.0, 45.0]]),
        elec_price_per_kwh=np.zeros((1, 25)),
    )


def test_team_is_the_normalised_market_profit_for_everyone():
    r = compute_reward(make("team"), outcome(), state())
    assert r.tolist() == [[pytest.approx((17.0 + 5.0) / 135.0)] * 2]


def test_individual_period_and_ema():
    assert compute_reward(make("individual"), outcome(), state()) == pytest.approx(np.array([[17 / 60, 5 / 75]]))
    assert compute_reward(make("period"), outcome(), state()) == pytest.approx(np.array([[7 / 60, -3 / 75]]))
    # profit EMA 30 and -15 per h, scales per hour 240 and 300
    assert compute_reward(make("ema"), outcome(), state()) == pytest.approx(np.array([[30 / 240, -15 / 300]]))


def test_social_welfare_is_surplus_plus_booked_profit_for_everyone():
    cfg = MarketConfig(
        objective="social_welfare", chargers_per_station=[4, 2], charger_power_kw=[30, 50], price_max=[2.0, 3.0]
    )
    # consumer surplus 12 plus booked profit 7 - 3, over the scales 60 + 75
    r = compute_reward(MarketParams.from_config(cfg), outcome(), state())
    assert r.tolist() == [[pytest.approx(16.0 / 135.0)] * 2]
