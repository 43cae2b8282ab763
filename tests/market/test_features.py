import numpy as np
import pytest

from evprice.core.features import Visibility
from evprice.market.config import MarketConfig
from evprice.market.dynamics import initial_state
from evprice.market.features import declare_features, profit_window_bounds, state_vector
from evprice.market.params import MarketParams


def test_features_are_named_and_ordered_as_in_the_seed():
    feats = declare_features(MarketParams.from_config(MarketConfig(n_stations=2)))
    assert [f.key for f in feats] == [
        "PublicMarketSignal",
        "station_1.ChargingStationStatus",
        "station_1.StationProfitWindow",
        "station_2.ChargingStationStatus",
        "station_2.StationProfitWindow",
    ]
    assert feats[0].field_names == ("elec_price", "time_sin", "time_cos")
    assert feats[1].field_names == ("occupancy", "price")
    assert feats[2].field_names == ("profit_ema", "revenue_ema", "cost_ema")
    assert feats[0].visibility == {Visibility.PUBLIC}
    assert feats[1].visibility == {Visibility.OWNER, Visibility.UPPER_LEVEL}
    full = declare_features(MarketParams.from_config(MarketConfig(observability="full")))
    assert full[1].visibility == {Visibility.OWNER, Visibility.UPPER_LEVEL, Visibility.PUBLIC}
    assert full[2].visibility == {Visibility.OWNER, Visibility.UPPER_LEVEL}


def test_time_encoding_and_initial_values():
    cfg = MarketConfig(start_hour=6.0, price_min=[1.0, 0.5], price_max=[2.0, 1.5])
    params = MarketParams.from_config(cfg)
    elec = np.arange(params.n_hours, dtype=float)[None, :] + 0.25
    st = initial_state(params, elec)
    v = state_vector(params, st)
    # 06:00 is a quarter of the day: sin = 1, cos = 0; the first hour's price
    np.testing.assert_allclose(v[0, :3], [0.25, 1.0, 0.0], atol=1e-12)
    # empty stations, mid prices, zero EMAs
    np.testing.assert_allclose(v[0, 3:], [0, 1.5, 0, 0, 0, 0, 1.0, 0, 0, 0])


def test_profit_window_bounds_by_hand():
    cfg = MarketConfig(
        chargers_per_station=4,
        charger_power_kw=30,
        price_max=2.0,
        fixed_cost_per_h=4.0,
        charging_efficiency=0.8,
        elec_price_per_kwh=[0.5] * 24,
        elec_price_noise_std_per_kwh=0.0,
    )
    b = profit_window_bounds(MarketParams.from_config(cfg), 0)
    assert b["revenue_ema"] == (0.0, 240.0)
    assert b["cost_ema"] == pytest.approx((0.0, 4.0 + 120 * 0.5 / 0.8))
    assert b["profit_ema"] == pytest.approx((-79.0, 240.0))
