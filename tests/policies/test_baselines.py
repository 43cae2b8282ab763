import numpy as np
import pytest

from evprice.core.config import ConfigError
from evprice.envs import make_env
from evprice.policies import Policy, make_policy


def test_random_policy_is_seeded_and_in_range():
    env = make_env("PublicCharging-v0", 16)
    obs = env.reset(seed=0)
    p = make_policy("random", env, seed=3)
    assert isinstance(p, Policy)
    a = p(obs)
    assert a.shape == (16, 2, 1) and (np.abs(a) <= 1).all()
    p.reset(3)
    np.testing.assert_array_equal(p(obs), a)
    p.reset(4)
    assert not np.array_equal(p(obs), a)


def test_fixed_policy_posts_its_price():
    env = make_env("PublicCharging-v0", 3, price_min=[0.5, 1.0], price_max=[1.5, 3.0])
    obs = env.reset(seed=0)
    _, _, _, _, info = env.step(make_policy("fixed", env, price=1.2)(obs))
    np.testing.assert_allclose(info["price"], 1.2)
    _, _, _, _, info = env.step(make_policy("fixed", env, price=[0.7, 2.5])(obs))
    np.testing.assert_allclose(info["price"], [[0.7, 2.5]] * 3)
    _, _, _, _, info = env.step(make_policy("fixed", env)(obs))
    np.testing.assert_allclose(info["price"], [[1.0, 2.0]] * 3)


def test_policy_errors():
    env = make_env("PublicCharging-v0", 1, price_min=[0.5, 1.0], price_max=[1.5, 3.0])
    with pytest.raises(ConfigError, match=r"price=0.9 is invalid: .*\[0.5, 1.5\], \[1, 3\]"):
        make_policy("fixed", env, price=0.9)
    with pytest.raises(ConfigError, match="one number or 2 numbers"):
        make_policy("fixed", env, price=[1.0, 1.2, 1.3])
    with pytest.raises(ConfigError, match="price does not apply to the 'random' policy"):
        make_policy("random", env, price=1.0)
    with pytest.raises(ConfigError, match="markup does not apply to the 'nash' policy"):
        make_policy("nash", env, markup=0.1)
    with pytest.raises(ConfigError, match="policy='greedy' is invalid"):
        make_policy("greedy", env)
