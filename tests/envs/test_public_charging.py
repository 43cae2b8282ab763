"""PublicCharging-v0's defaults (utility drivers, block) keep their numbers through model changes."""

import numpy as np
import pytest

from evprice.envs import make_env


def test_defaults_give_the_numbers_of_the_release_before_the_driver_fixes():
    """Totals of a seeded day under random prices, measured at commit 47ce30a (before drivers
    saw queues, generalised drivers left full stations out and welfare was added). Utility
    drivers in block mode never meet a queue, so none of those changes may move them."""
    env = make_env("PublicCharging-v0", 4)
    env.reset(seed=2026)
    rng = np.random.default_rng(7)
    totals = {k: np.zeros(4) for k in ("profit", "admitted", "blocked", "gave_up", "energy", "reward")}
    for _ in range(env.n_periods):
        _, reward, _, _, info = env.step(rng.uniform(-1, 1, (4, 2, 1)))
        totals["profit"] += info["profit"].sum(axis=1)
        totals["admitted"] += info["admitted"].sum(axis=1)
        totals["blocked"] += info["blocked"].sum(axis=1)
        totals["gave_up"] += info["market"]["gave_up"]
        totals["energy"] += info["energy_kwh"].sum(axis=1)
        totals["reward"] += reward[:, 0]
    assert totals["admitted"].tolist() == [72, 55, 47, 60]
    assert totals["blocked"].tolist() == [2, 7, 4, 3]
    assert totals["gave_up"].tolist() == [21, 36, 21, 35]
    assert totals["profit"] == pytest.approx([18.227801333, -5.157699121, -33.442770625, -59.26838754], abs=1e-8)
    assert totals["energy"] == pytest.approx([778.323338714, 832.265798936, 604.143053637, 866.426426739], abs=1e-8)
    assert totals["reward"] == pytest.approx([0.151898344, -0.042980826, -0.278689755, -0.49390323], abs=1e-8)
