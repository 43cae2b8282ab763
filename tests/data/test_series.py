"""Tariff, sinusoid, CSV and carbon series, with values worked out by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from evprice.core.config import ConfigError
from evprice.data import (
    DEFAULT_TOU_SCHEDULE,
    EMISSION_FACTORS_G_PER_KWH,
    load_series_csv,
    mix_intensity_g_per_kwh,
    sinusoid_with_noise,
    tou_tariff_per_kwh,
)

# -- time-of-use tariff --------------------------------------------------------------------


def test_default_schedule_by_hand():
    prices = tou_tariff_per_kwh(np.arange(24), off_peak=0.3, shoulder=0.8, peak=1.2)
    expected = [0.3] * 8 + [0.8] * 2 + [1.2] * 2 + [0.8] * 2 + [1.2] * 5 + [0.8] * 5
    np.testing.assert_array_equal(prices, expected)
    assert DEFAULT_TOU_SCHEDULE.count("peak") == 7 and DEFAULT_TOU_SCHEDULE.count("off_peak") == 8


def test_tariff_wraps_days_and_keeps_the_shape():
    hours = np.array([[7.99, 8.0, 33.5], [-1.0, 10.0, 47.0]])  # 33.5 -> 09 h, -1 -> 23 h, 47 -> 23 h
    prices = tou_tariff_per_kwh(hours, 1.0, 2.0, 3.0)
    np.testing.assert_array_equal(prices, [[1.0, 2.0, 2.0], [2.0, 3.0, 2.0]])
    assert tou_tariff_per_kwh(12, 1.0, 2.0, 3.0).shape == ()


def test_custom_schedule():
    schedule = ["peak"] * 12 + ["off_peak"] * 12
    np.testing.assert_array_equal(tou_tariff_per_kwh([0, 11, 12, 23], 0.1, 0.5, 0.9, schedule), [0.9, 0.9, 0.1, 0.1])


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(schedule=["peak"] * 23), "schedule="),
        (dict(schedule=["peak"] * 23 + ["night"]), "hour 23 has period 'night'"),
        (dict(peak=float("nan")), "peak=nan"),
        (dict(hours=[1.0, float("inf")]), "hours="),
    ],
)
def test_tariff_errors(kwargs, message):
    args = {**dict(hours=np.arange(3), off_peak=0.3, shoulder=0.8, peak=1.2), **kwargs}
    with pytest.raises(ConfigError, match=message):
        tou_tariff_per_kwh(**args)


@given(st.lists(st.integers(-4000, 4000).map(lambda k: k / 4), min_size=1, max_size=50))  # exact in binary
def test_tariff_takes_only_the_three_prices(hours):
    prices = tou_tariff_per_kwh(hours, 0.25, 0.75, 1.5)
    assert set(np.unique(prices)) <= {0.25, 0.75, 1.5}
    np.testing.assert_array_equal(prices, tou_tariff_per_kwh(np.asarray(hours) + 24.0, 0.25, 0.75, 1.5))


# -- sinusoid ------------------------------------------------------------------------------


def test_sinusoid_without_noise_by_hand():
    # peak at 17.5: hour 17 (middle 17.5) is the maximum, hour 5 the minimum, hours 11 and 23 the mean
    values = sinusoid_with_noise([17, 5, 11, 23, 41.7], mean=1.0, amplitude=0.4, peak_hour=17.5, noise_std=0.0)
    np.testing.assert_allclose(values, [1.4, 0.6, 1.0, 1.0, 1.4], atol=1e-12)
    h18 = sinusoid_with_noise(18, mean=0.0, amplitude=1.0, peak_hour=18.0, noise_std=0.0)
    assert h18 == pytest.approx(math.cos(math.pi / 24))


def test_sinusoid_defaults_are_the_market_wholesale_price():
    from evprice.market.config import MarketConfig

    cfg = MarketConfig()
    np.testing.assert_allclose(sinusoid_with_noise(np.arange(24), noise_std=0.0), cfg.elec_price_profile_per_kwh())
    assert cfg.elec_price_noise_std_per_kwh == 0.03


def test_sinusoid_noise_is_seeded_normal():
    hours = np.tile(np.arange(24), 5000)
    a = sinusoid_with_noise(hours, 0.5, 0.2, 12.0, 0.05, np.random.default_rng(3))
    b = sinusoid_with_noise(hours, 0.5, 0.2, 12.0, 0.05, np.random.default_rng(3))
    np.testing.assert_array_equal(a, b)
    noise = a - sinusoid_with_noise(hours, 0.5, 0.2, 12.0, 0.0)
    n = noise.size
    assert abs(noise.mean()) < 5 * 0.05 / math.sqrt(n)
    assert abs(noise.std() - 0.05) < 5 * 0.05 / math.sqrt(2 * n)


def test_sinusoid_errors():
    with pytest.raises(TypeError, match="needs a numpy.random.Generator"):
        sinusoid_with_noise([0, 1], noise_std=0.1)
    with pytest.raises(ConfigError, match="amplitude=-1"):
        sinusoid_with_noise([0], amplitude=-1.0, noise_std=0.0)
    with pytest.raises(ConfigError, match="peak_hour=24"):
        sinusoid_with_noise([0], peak_hour=24.0, noise_std=0.0)


# -- CSV series ----------------------------------------------------------------------------


def write_csv(path, header, rows):
    path.write_text("\n".join([",".join(header)] + [",".join(str(v) for v in r) for r in rows]) + "\n", "utf-8")
    return path


def test_csv_series_of_one_and_two_days(tmp_path):
    one = write_csv(
        tmp_path / "one.csv", ["hour", "price_per_kwh", "note"], [(h, 0.5 + h / 100, "x") for h in range(24)]
    )
    np.testing.assert_allclose(load_series_csv(one, "price_per_kwh"), 0.5 + np.arange(24) / 100)
    two = write_csv(tmp_path / "two.csv", ["hour", "g_per_kwh"], [(h, 500 + h) for h in range(48)])
    series = load_series_csv(two, "g_per_kwh")
    assert series.shape == (48,) and series[47] == 547.0


@pytest.mark.parametrize(
    "header, rows, message",
    [
        (
            ["hour", "price"],
            [(h, 1.0) for h in range(24)],
            r"missing columns \['value'\]; columns found: \['hour', 'price'\]",
        ),
        (["hour", "value"], [(h, 1.0) for h in range(25)], "has 25 hourly values: expected 24 or a multiple of 24"),
        (["hour", "value"], [(h if h != 5 else 6, 1.0) for h in range(24)], "line 7: hour='6', expected 5"),
        (
            ["hour", "value"],
            [(h, "high" if h == 2 else 1.0) for h in range(24)],
            "line 4: .*value='high' is not a number",
        ),
        (["hour", "value"], [(h, "nan" if h == 0 else 1.0) for h in range(24)], "line 2: value='nan' is not finite"),
        (["hour", "value"], [], "no data rows"),
    ],
)
def test_csv_series_errors(tmp_path, header, rows, message):
    path = write_csv(tmp_path / "s.csv", header, rows)
    with pytest.raises(ConfigError, match=message):
        load_series_csv(path, "value")


def test_csv_series_missing_file(tmp_path):
    with pytest.raises(ConfigError, match="cannot be read"):
        load_series_csv(tmp_path / "absent.csv", "value")


# -- emission factors ----------------------------------------------------------------------


def test_emission_factors_are_the_ipcc_medians():
    f = EMISSION_FACTORS_G_PER_KWH
    ar5 = {"coal": 820, "gas_ccgt": 490, "biomass_cofiring": 740, "biomass_dedicated": 230, "geothermal": 38}
    ar5 |= {"hydro": 24, "nuclear": 12, "solar_csp": 27, "solar_pv_rooftop": 41, "solar_pv_utility": 48}
    ar5 |= {"wind_onshore": 11, "wind_offshore": 12}
    assert {k: f[k] for k in ar5} == ar5 and f["oil"] == 840
    with pytest.raises(TypeError):
        f["coal"] = 0.0  # read-only


def test_mix_intensity_by_hand():
    assert mix_intensity_g_per_kwh({"coal": 0.5, "wind_onshore": 0.5}) == pytest.approx(415.5)
    assert mix_intensity_g_per_kwh({"gas_ccgt": 1.0}) == pytest.approx(490.0)
    hourly = mix_intensity_g_per_kwh({"coal": [1.0, 0.6, 0.0], "solar_pv_utility": [0.0, 0.4, 1.0]})
    np.testing.assert_allclose(hourly, [820.0, 0.6 * 820 + 0.4 * 48, 48.0])
    custom = mix_intensity_g_per_kwh({"a": 0.25, "b": 0.75}, factors={"a": 100.0, "b": 200.0})
    assert custom == pytest.approx(175.0)


@pytest.mark.parametrize(
    "shares, message",
    [
        ({}, "empty"),
        ({"coal": 0.5, "lignite": 0.5}, r"unknown generation sources \['lignite'\]"),
        ({"coal": 0.5, "nuclear": 0.4}, "must sum to 1"),
        ({"coal": 1.5, "nuclear": -0.5}, r"shares\['coal'\]=1.5 is invalid"),
        ({"coal": [0.5, 1.0], "nuclear": [0.5, 0.5]}, "must sum to 1"),
    ],
)
def test_mix_intensity_errors(shares, message):
    with pytest.raises(ConfigError, match=message):
        mix_intensity_g_per_kwh(shares)


@given(st.lists(st.floats(0.0, 1.0), min_size=2, max_size=5).filter(lambda w: sum(w) > 0.1))
def test_mix_intensity_lies_between_the_sources(weights):
    sources = list(EMISSION_FACTORS_G_PER_KWH)[: len(weights)]
    total = sum(weights)
    shares = {s: w / total for s, w in zip(sources, weights)}
    shares[sources[-1]] = 1.0 - sum(list(shares.values())[:-1])  # exact sum
    if shares[sources[-1]] < 0:  # rounding pushed the last share below zero
        return
    value = float(mix_intensity_g_per_kwh(shares))
    used = [EMISSION_FACTORS_G_PER_KWH[s] for s in sources]
    assert min(used) - 1e-9 <= value <= max(used) + 1e-9
