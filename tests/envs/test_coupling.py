"""The coupling protocol: what a coupling adds, in the documented order, composed without a subclass."""

from dataclasses import replace
from functools import partial

import numpy as np
import pytest

from evprice.core.config import ConfigError
from evprice.core.features import Feature, Field, Visibility
from evprice.envs import MarketEnv, make_env
from evprice.envs.coupling import Coupling, CouplingStep, PeriodInputs
from evprice.envs.registry import spec
from evprice.envs.rewards import register_reward, reward_function, reward_name
from evprice.market.config import MarketConfig


class Recorder(Coupling):
    """Records every call; adds a public feature (the period count, x ``scale``), a cost of
    ``cost`` per station, raises the prices by ``markup`` and an info group."""

    name = "recorder"

    def __init__(self, env, log, markup=0.0, cost=1.0, scale=1.0, name="recorder"):
        super().__init__(env)
        self.name, self.log, self.markup, self.cost, self.scale = name, log, markup, cost, scale
        self.count = 0
        log.append((self.name, "init"))

    def agents(self, specs):
        self.log.append((self.name, "agents"))
        return specs

    def features(self):
        self.log.append((self.name, "features"))
        field = Field("count", "1", 0.0, 1e6, "periods run x scale")
        return (Feature(f"{self.name}_Counter", (field,), frozenset({Visibility.PUBLIC})),)

    def values(self):
        self.log.append((self.name, "values"))
        return np.full((self.env.num_envs, 1), self.count * self.scale)

    def reset(self, seed):
        self.log.append((self.name, "reset"))
        self.count = 0

    def inputs(self, inputs):
        self.log.append((self.name, "inputs"))
        return replace(inputs, price_per_kwh=inputs.price_per_kwh + self.markup)

    def grid_draw(self, outcome, grid_kwh):
        self.log.append((self.name, "grid_draw"))
        return grid_kwh

    def after_period(self, period):
        self.log.append((self.name, "after_period"))
        self.count += 1
        return CouplingStep(np.full(period.outcome.price_per_kwh.shape, self.cost), {self.name: {"count": self.count}})

    def snapshot(self):
        return {"count": self.count}

    def restore(self, parts):
        self.count = parts["count"]


def test_calls_come_in_the_documented_order():
    log = []
    env = MarketEnv(MarketConfig(n_stations=2), 2, couplings=(partial(Recorder, log=log),))
    assert log == [("recorder", "init"), ("recorder", "agents"), ("recorder", "features")]
    log.clear()
    env.reset(seed=0)
    assert log == [("recorder", "reset"), ("recorder", "values")]
    log.clear()
    env.step(np.zeros((2, 2, 1)))
    assert [c for _, c in log] == ["inputs", "grid_draw", "after_period", "values"]


def test_costs_add_up_infos_merge_and_inputs_chain():
    log = []
    one = partial(Recorder, log=log, markup=0.01, cost=0.5, name="one")
    two = partial(Recorder, log=log, markup=0.02, cost=0.25, scale=10.0, name="two")
    cfg = MarketConfig(n_stations=2, price_min=0.2, price_max=0.6)
    env = MarketEnv(cfg, 3, couplings=(one, two))
    env.reset(seed=1)
    posted = np.array([0.3, 0.5])
    _, _, _, _, info = env.step(env.prices_to_actions(np.tile(posted, (3, 1))))
    np.testing.assert_allclose(info["price"], np.tile(posted + 0.03, (3, 1)), rtol=0, atol=1e-12)  # both markups
    np.testing.assert_array_equal(info["cost"], np.full((3, 2), 0.75))
    assert info["one"] == {"count": 1} and info["two"] == {"count": 1}
    # their features come after the market's, in coupling order, and hold their values
    names = env.layout.state_names
    assert names[-2:] == (("one_Counter", "count"), ("two_Counter", "count"))
    np.testing.assert_array_equal(env.global_state()[:, -2:], np.tile([1.0, 10.0], (3, 1)))


def test_a_plain_market_has_no_cost_and_no_couplings():
    env = MarketEnv(MarketConfig(n_stations=2), 2)
    env.reset(seed=0)
    _, _, _, _, info = env.step(np.zeros((2, 2, 1)))
    assert env.couplings == () and np.array_equal(info["cost"], np.zeros((2, 2)))


def test_composition_is_checked():
    log = []
    with pytest.raises(ValueError, match="coupling names must be unique"):
        MarketEnv(MarketConfig(), couplings=(partial(Recorder, log=log), partial(Recorder, log=log)))

    class Wrong(Recorder):
        def values(self):
            return np.zeros((self.env.num_envs, 3))  # declares one column

    env = MarketEnv(MarketConfig(), 2, couplings=(partial(Wrong, log=log),))
    with pytest.raises(ValueError, match="values\\(\\) disagree with its features\\(\\)"):
        env.reset(seed=0)


def test_origin_zones_need_a_coupling_that_sets_travel_times():
    cfg = MarketConfig(n_stations=2, origin_weights=(1.0, 2.0))
    with pytest.raises(ConfigError, match="origin_weights"):
        MarketEnv(cfg)

    class Roads(Coupling):
        name = "roads"
        sets_travel_times = True

        def inputs(self, inputs):
            return PeriodInputs(inputs.price_per_kwh, np.array([[0.1, 0.5], [0.5, 0.1]]))  # (Z, N) hours

    env = MarketEnv(cfg, 2, couplings=(Roads,))
    env.reset(seed=0)
    env.step(np.zeros((2, 2, 1)))


def test_registered_scenarios_are_compositions():
    names = lambda env: [c.name for c in env.couplings]  # noqa: E731
    assert names(make_env("PublicCharging-v0")) == []
    assert names(make_env("GridCharging-v0")) == ["grid"]
    assert names(make_env("CoupledNetwork-v0")) == ["roads", "grid", "tariff"]
    assert names(make_env("SiouxFalls-v0")) == ["roads", "grid", "tariff"]
    assert names(make_env("GridCharging-v0", leader="station_2")) == ["leader", "grid"]
    assert names(make_env("LogitBertrand-v0", leader="station_1")) == ["leader"]
    assert spec("GridCharging-v0").factory is None  # composed, not built by a factory
    env = make_env("CoupledNetwork-v0", 2)
    assert env.coupling("grid").station_buses == (31, 13, 19)
    with pytest.raises(KeyError, match="has no coupling 'battery'"):
        env.coupling("battery")


def test_extra_couplings_compose_onto_a_registered_scenario_and_replicate():
    log = []
    env = make_env("GridCharging-v0", 2, couplings=(partial(Recorder, log=log, cost=2.0),))
    assert [c.name for c in env.couplings] == ["grid", "recorder"]
    env.reset(seed=3)
    _, _, _, _, info = env.step(np.zeros((2, 3, 1)))
    np.testing.assert_array_equal(info["cost"], np.tile(info["grid"]["cost"][:, None] + 2.0, (1, 3)))
    copy = env.replicate(4)
    assert [c.name for c in copy.couplings] == ["grid", "recorder"] and copy.couplings[1] is not env.couplings[1]


def test_one_reward_registry():
    assert reward_name(MarketConfig(reward="individual")) == "individual"
    assert reward_name(MarketConfig(objective="social_welfare")) == "social_welfare"
    assert make_env("CoupledNetwork-v0", objective="revenue_minus_supply_cost").reward_name == (
        "revenue_minus_supply_cost"
    )
    with pytest.raises(ConfigError, match="unknown reward 'nope'"):
        reward_function("nope")
    with pytest.raises(ValueError, match="already registered"):
        register_reward("team", lambda env, outcome, info: None)
    with pytest.raises(ConfigError, match="needs the supply-tariff coupling"):
        env = MarketEnv(MarketConfig(), reward="revenue_minus_supply_cost")
        env.reset(seed=0)
        env.step(np.zeros((1, env.n_agents, 1)))


def test_a_custom_reward_is_chosen_by_name():
    def revenue_share(env, outcome, info):
        return outcome.revenue / outcome.revenue.sum(axis=1, keepdims=True).clip(min=1e-12)

    register_reward("test_revenue_share", revenue_share)
    env = MarketEnv(MarketConfig(n_stations=2, start_hour=12.0), 2, reward="test_revenue_share")
    env.reset(seed=0)
    checked = 0
    for _ in range(20):
        _, reward, _, _, info = env.step(np.zeros((2, 2, 1)))
        total = info["revenue"].sum(axis=1)
        sold = total > 0
        np.testing.assert_allclose(reward[sold], info["revenue"][sold] / total[sold, None], rtol=1e-12)
        checked += sold.sum()
    assert checked >= 20
    assert env.replicate(1).reward_name == "test_revenue_share"
