import pytest
import yaml

from evprice.core.config import ConfigError
from evprice.core.declared import describe_fields
from evprice.market.config import MarketConfig


def test_defaults_are_valid_and_normalised():
    cfg = MarketConfig()
    assert cfg.chargers_per_station == (4, 4)
    assert cfg.charger_power_kw == (30.0, 30.0)
    assert cfg.substeps_per_period == 15
    assert cfg.n_periods == 96
    assert cfg.agent_ids == ("station_1", "station_2")
    assert cfg.arrival_rates_per_h().shape == (24,)
    # the built-in profile scales with the number of stations
    assert MarketConfig(n_stations=4).arrival_rates_per_h().sum() == pytest.approx(2 * cfg.arrival_rates_per_h().sum())
    assert cfg.arrival_rates_per_h().sum() == pytest.approx(2 * 45.0)


@pytest.mark.parametrize(
    "key, value, message",
    [
        ("n_stations", 0, r"n_stations=0 is invalid: expected an integer in \[1, 1000\]"),
        ("chargers_per_station", [4, 0], r"chargers_per_station\[1\]=0 is invalid"),
        ("chargers_per_station", [4, 4, 4], r"exactly 2 such values \(got 3\)"),
        ("charger_power_kw", 0, r"charger_power_kw=0 is invalid: expected a finite number in \(0, 10000\]"),
        ("price_min", -0.1, r"price_min=-0.1 is invalid"),
        ("price_max", 0.5, r"price_max > price_min"),
        ("dt_s", 7, r"dt_s=7 is invalid: expected an integer number of seconds in \[1, 3600\] that divides 3600"),
        ("action_period_s", 1000, r"action_period_s=1000 is invalid: expected a positive multiple of dt_s=60"),
        ("horizon_h", 0.3, r"horizon_h=0.3 is invalid: expected a positive multiple of action_period_s=900"),
        ("start_hour", 24, r"start_hour=24 is invalid"),
        ("arrival_rate_per_h", -1.0, r"arrival_rate_per_h=-1.0 is invalid"),
        ("arrival_rate_per_h", [1.0] * 23, r"exactly 24 such values \(got 23\)"),
        (
            "arrival_rate_per_h",
            1e15,
            r"arrival_rate_per_h=1000000000000000.0 is invalid: expected a finite number in \[0, 10000\]",
        ),
        ("dwell_time_mean_h", 0, r"dwell_time_mean_h=0 is invalid"),
        ("dwell_time_cv", 1e-9, r"0 \(a fixed value\) or a number in \[0.001, 10\]"),
        ("energy_demand_cv", -1, r"energy_demand_cv=-1 is invalid"),
        (
            "dwell_time_distribution",
            "weibull",
            r"dwell_time_distribution='weibull' is invalid: expected one of 'gamma', 'lognormal'",
        ),
        ("noise", "cauchy", r"noise='cauchy' is invalid: expected one of 'gumbel', 'normal'"),
        ("noise_scale", -0.5, r"noise_scale=-0.5 is invalid"),
        ("outside_option_utility", float("nan"), r"outside_option_utility=nan is invalid"),
        ("when_full", "wait", r"when_full='wait' is invalid: expected one of 'block', 'reroute', 'queue'"),
        ("travel_time_min", [1.0], r"exactly 2 such values"),
        ("elec_price_per_kwh", 0.5, r"elec_price_per_kwh=0.5 is invalid: expected a list of 24 hourly numbers"),
        ("charging_efficiency", 1.5, r"charging_efficiency=1.5 is invalid: expected a finite number in \[0.01, 1\]"),
        ("fixed_cost_per_h", -2, r"fixed_cost_per_h=-2 is invalid"),
        ("reward", "selfish", r"reward='selfish' is invalid: expected one of 'team', 'individual', 'period', 'ema'"),
        ("observability", "none", r"observability='none' is invalid"),
        ("currency", "", r"currency='' is invalid"),
    ],
)
def test_bad_values_name_field_value_and_allowed(key, value, message):
    with pytest.raises(ConfigError, match=message):
        MarketConfig.from_overrides({key: value})


def test_unknown_key_is_named_with_suggestion():
    with pytest.raises(ConfigError, match=r"unknown key 'price_sensitivty'.*did you mean price_sensitivity"):
        MarketConfig.from_overrides(price_sensitivty=3)


def test_yaml_round_trip():
    cfg = MarketConfig(
        n_stations=3, chargers_per_station=[1, 2, 3], arrival_rate_per_h=[2.0] * 24, outside_option_utility=None
    )
    back = MarketConfig.from_overrides(yaml.safe_load(yaml.safe_dump(cfg.to_dict())))
    assert back == cfg


def test_replace_validates():
    cfg = MarketConfig()
    assert cfg.replace(noise="normal").noise == "normal"
    with pytest.raises(ConfigError, match="unknown key"):
        cfg.replace(bogus=1)
    with pytest.raises(ConfigError):
        cfg.replace(dt_s=7)


def test_every_field_is_documented_with_a_unit():
    rows = describe_fields(MarketConfig)
    assert {r["name"] for r in rows} == set(MarketConfig.field_names())
    assert all(r["unit"] and r["doc"] for r in rows)


def test_elec_price_profile_and_bounds_by_hand():
    cfg = MarketConfig(
        elec_price_mean_per_kwh=0.5,
        elec_price_amplitude_per_kwh=0.2,
        elec_price_peak_hour=12.5,
        elec_price_noise_std_per_kwh=0.01,
    )
    profile = cfg.elec_price_profile_per_kwh()
    # hour h takes the cosine at h + 0.5: hour 12 is the peak, hour 0 the trough, hour 6 the mean
    assert profile[12] == pytest.approx(0.7)
    assert profile[0] == pytest.approx(0.3)
    assert profile[6] == pytest.approx(0.5)
    assert cfg.elec_price_bounds_per_kwh() == pytest.approx((0.3 - 0.03, 0.7 + 0.03))
    flat = MarketConfig(elec_price_per_kwh=[0.4] * 12 + [0.9] * 12, elec_price_noise_std_per_kwh=0.0)
    assert flat.elec_price_bounds_per_kwh() == (0.4, 0.9)


UTILITY_ONLY = {
    "station_utility": 0.5,
    "price_sensitivity": 3.0,
    "congestion_sensitivity": 1.0,
    "travel_time_sensitivity": 0.1,
    "outside_option_utility": -3.0,
}
GENERALISED_ONLY = {
    "value_of_time_per_h": 10.0,
    "travel_time_weight": 2.0,
    "outside_option_price_per_kwh": 1.5,
    "outside_option_time_h": 1.0,
    "time_budget_h": 2.0,
}


@pytest.mark.parametrize(("key", "value"), list(UTILITY_ONLY.items()))
def test_utility_settings_are_refused_for_generalised_drivers(key, value):
    MarketConfig(**{key: value})  # used by utility drivers
    with pytest.raises(ConfigError, match=f"{key}=.* is invalid with driver_cost='generalised': it has no effect"):
        MarketConfig(driver_cost="generalised", **{key: value})


@pytest.mark.parametrize(("key", "value"), list(GENERALISED_ONLY.items()))
def test_generalised_settings_are_refused_for_utility_drivers(key, value):
    MarketConfig(driver_cost="generalised", **{key: value})  # used by generalised drivers
    with pytest.raises(ConfigError, match=f"{key}=.* is invalid with driver_cost='utility': it has no effect"):
        MarketConfig(**{key: value})


def test_a_per_station_setting_away_from_its_default_at_one_station_is_refused():
    MarketConfig(driver_cost="generalised", station_utility=[0.0, 0.0])
    with pytest.raises(ConfigError, match=r"station_utility=\(0.0, 0.2\) is invalid with driver_cost='generalised'"):
        MarketConfig(driver_cost="generalised", station_utility=[0.0, 0.2])


def test_switching_the_driver_model_by_replace_keeps_defaults_acceptable():
    cfg = MarketConfig().replace(driver_cost="generalised")
    assert cfg.ignored_fields() == ("station_utility", "price_sensitivity", "congestion_sensitivity",
                                    "travel_time_sensitivity", "outside_option_utility")  # fmt: skip
    with pytest.raises(ConfigError, match="price_sensitivity=2.0 is invalid with driver_cost='generalised'"):
        MarketConfig(price_sensitivity=2.0).replace(driver_cost="generalised")


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"reward": "individual"}, "reward='individual' is invalid with objective='social_welfare'"),
        ({"reward": "ema"}, "reward='ema' is invalid with objective='social_welfare'"),
        ({"outside_option_utility": None}, "needs an outside option; set outside_option_utility"),
        ({"price_sensitivity": 0.0}, "price_sensitivity=0: utility is turned into money"),
        ({"driver_cost": "generalised"}, "outside_option_price_per_kwh=None: consumer surplus"),
    ],
)
def test_social_welfare_refuses_what_it_ignores_or_cannot_value(overrides, message):
    with pytest.raises(ConfigError, match=message):
        MarketConfig(objective="social_welfare", **overrides)


def test_social_welfare_is_accepted_where_it_is_defined():
    assert MarketConfig(objective="social_welfare").objective == "social_welfare"
    MarketConfig(objective="social_welfare", driver_cost="generalised", outside_option_price_per_kwh=1.8)
    with pytest.raises(ConfigError, match="objective='revenue_minus_supply_cost' is invalid: expected one of"):
        MarketConfig(objective="revenue_minus_supply_cost")  # a CoupledNetwork-v0 objective only


def test_origin_weights_take_one_list_or_one_per_hour():
    hourly = [[1.0, 2.0]] * 12 + [[3, 0]] * 12
    cfg = MarketConfig(origin_weights=hourly)
    assert cfg.origin_weights[12] == (3.0, 0.0) and len(cfg.origin_weights) == 24 and cfg.n_origins == 2
    by_hour = cfg.origin_weights_by_hour()
    assert by_hour.shape == (24, 2) and by_hour[0].tolist() == [1.0, 2.0] and by_hour[23].tolist() == [3.0, 0.0]
    static = MarketConfig(origin_weights=(1.0, 2.0, 3.0)).origin_weights_by_hour()
    assert static.shape == (24, 3) and (static == [1.0, 2.0, 3.0]).all()
    for bad, why in (
        ([[1.0, 2.0]] * 23, "origin_weights=.* is invalid: expected a non-empty list, .* or 24 such lists"),
        ([[1.0, 2.0]] * 23 + [[1.0]], "or 24 such lists of one length"),
        ([[1.0, 2.0]] * 23 + [[1.0, -2.0]], r"origin_weights\[23\]\[1\]=-2.0 is invalid"),
        ([[1.0, 2.0]] * 5 + [[0.0, 0.0]] + [[1.0, 2.0]] * 18, "hour 5's weights sum to 0"),
        ([1.0, [2.0]], r"origin_weights\[1\]="),
    ):
        with pytest.raises(ConfigError, match=why):
            MarketConfig(origin_weights=bad)
