"""GridConfig: bad values fail at once, naming the field, the value and what is allowed."""

import numpy as np
import pytest

from evprice.core.config import ConfigError
from evprice.grid.config import GridConfig
from evprice.grid.profiles import IEEE_RTS_WINTER_WEEKDAY


@pytest.mark.parametrize(
    "key, value, message",
    [
        ("feeder", "ieee13", r"feeder='ieee13' is invalid: expected one of 'case33bw', 'doc2'"),
        ("solver", "newton", r"solver='newton' is invalid: expected one of 'fast', 'pandapower'"),
        ("vm_min_pu", 1.0, r"vm_min_pu=1.0 is invalid: expected a finite number in \[0.5, 1\)"),
        ("vm_max_pu", 0.99, r"vm_max_pu=0.99 is invalid: expected a finite number in \(1, 1.5\]"),
        ("monitored_lines", [3, 40], r"monitored_lines\[1\]=40 is invalid: expected an integer in \[0, 31\]"),
        ("monitored_lines", [3, 3], r"expected line indices without repeats"),
        ("monitored_lines", [], r"expected a non-empty list of line indices in \[0, 31\]"),
        ("line_loading_limit", 0.0, r"line_loading_limit=0.0 is invalid: expected a finite number in \(0, 10\]"),
        ("base_load_profile", 0.8, r"base_load_profile=0.8 is invalid: expected a list of 24 hourly numbers"),
        ("base_load_profile", [1.0] * 23, r"exactly 24 such values \(got 23\)"),
        ("base_load_noise_std", 0.5, r"base_load_noise_std=0.5 is invalid: expected a finite number in \[0, 0.3\]"),
        ("ext_grid_emission_g_per_kwh", -1.0, r"ext_grid_emission_g_per_kwh=-1.0 is invalid"),
        ("ext_grid_emission_g_per_kwh", [700.0] * 5, r"exactly 24 such values \(got 5\)"),
        ("carbon_cap_g_per_kwh", 0.0, r"carbon_cap_g_per_kwh=0.0 is invalid"),
        ("cost_weight_line", -1.0, r"cost_weight_line=-1.0 is invalid: expected a finite number in \[0, 1e\+06\]"),
        ("cost_weight_voltage", float("nan"), r"cost_weight_voltage=nan is invalid"),
    ],
)
def test_bad_values_are_named(key, value, message):
    with pytest.raises(ConfigError, match=message):
        GridConfig(**{key: value})


def test_unknown_key_is_named():
    with pytest.raises(ConfigError, match=r"unknown key 'vmin' for grid \(did you mean vm_min_pu"):
        GridConfig.from_overrides({"vmin": 0.9})


def test_derived_values():
    c = GridConfig()
    assert c.lines_monitored(c.make_feeder()) == (9, 17, 27)
    np.testing.assert_array_equal(c.base_load_profile_factors(), IEEE_RTS_WINTER_WEEKDAY)
    assert c.emission_bounds_g_per_kwh() == (700.0, 900.0)
    hourly = GridConfig(
        feeder="case33bw", monitored_lines=[0, 1], ext_grid_emission_g_per_kwh=[500.0 + h for h in range(24)]
    )
    assert hourly.lines_monitored(hourly.make_feeder()) == (0, 1)
    assert hourly.emission_bounds_g_per_kwh() == (500.0, 900.0)
    assert GridConfig.from_overrides(hourly.to_dict()) == hourly  # round trip through plain values
