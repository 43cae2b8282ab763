"""Fuzzing every config key of every registered environment (issue 19).

A bad value must raise the project's :class:`ConfigError` (one line on the CLI), never
another exception; an accepted value must run a short episode with finite observations,
rewards and costs and the conservation identity. The suite runs a bounded profile (under a
minute); ``EVPRICE_FUZZ_EXAMPLES=5000 python -m pytest tests/test_fuzz_configs.py`` runs a
longer one by hand.
"""

from __future__ import annotations

import os
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from evprice.core.config import ConfigError
from evprice.envs import registered_ids, spec

EXAMPLES = int(os.environ.get("EVPRICE_FUZZ_EXAMPLES", "40"))
PERIODS = 3

SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**12), 10**12),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0, 1, -1, 0.5, 1e-300, 1e300, -1e300, 1.7e308, 2**63, "", "x", "auto", "none"]),
    st.text(max_size=8),
)
VALUES = st.one_of(SCALARS, st.lists(SCALARS, max_size=4), st.dictionaries(st.text(max_size=3), SCALARS, max_size=2))


def _keys() -> list[tuple[str, str]]:
    return [(env_id, key) for env_id in registered_ids() for key in spec(env_id).config_cls.field_names()]


def _short_episode(env_id: str, overrides: dict) -> None:
    from evprice.envs import make_env

    env = make_env(env_id, 1, **overrides)
    obs = env.reset(0)
    assert np.isfinite(obs).all(), "observation after reset"
    rng = np.random.default_rng(0)
    for _ in range(min(PERIODS, env.n_periods)):
        obs, reward, _, _, info = env.step(rng.uniform(-1, 1, (1, env.n_agents, 1)))
        assert np.isfinite(obs).all() and np.isfinite(reward).all() and np.isfinite(info["cost"]).all()
        m = info["market"]
        assert m["arrivals"] == pytest.approx(m["admitted"] + m["blocked"] + m["gave_up"], rel=1e-9, abs=1e-9)


@pytest.mark.parametrize(("env_id", "key"), _keys())
@settings(
    max_examples=max(1, EXAMPLES // 20),
    deadline=None,
    suppress_health_check=list(HealthCheck),
    phases=(Phase.explicit, Phase.reuse, Phase.generate),  # no shrinking: the failing value is printed as found
)
@given(value=VALUES)
def test_a_value_is_refused_by_name_or_runs_cleanly(env_id, key, value):
    if key == "sessions" and isinstance(value, str) and value not in ("independent", "calibrated"):
        value = value + ".no-such-file"  # never read whatever file a random string names
    try:
        cfg = spec(env_id).make_config({key: value})
    except ConfigError as err:
        assert key in str(err) or "invalid" in str(err), str(err)
        return
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # an overflow is a failure, not a warning
        try:
            _short_episode(
                env_id,
                {key: getattr(cfg, key) if not isinstance(getattr(cfg, key), tuple) else list(getattr(cfg, key))},
            )
        except ConfigError:
            return  # refused when the environment is built (a setting the scenario cannot use)
