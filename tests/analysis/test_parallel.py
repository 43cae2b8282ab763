"""Arms spread over local processes or Ray tasks give the numbers of a sequential run."""

import pytest

from evprice.analysis.parallel import check_parallel, run_tasks
from evprice.analysis.studies import ARM_TORCH_THREADS, train_arm
from evprice.core.config import ConfigError


def _tasks(tmp_path, mode):
    return [
        {
            "label": label,
            "env_id": "LogitBertrand-v0",
            "overrides": {"horizon_h": 3.0, "reward": reward},
            "seeds": [0, 1],
            "steps": 1024,
            "episodes": 1,
            "run_dir": str(tmp_path / mode / label),
            "torch_threads": ARM_TORCH_THREADS,
        }
        for label, reward in (("team", "team"), ("individual", "individual"))
    ]


def _numbers(results):
    keep = ("mean_price", "profit", "delta", "curve")
    return [[{k: r[k] for k in keep} for r in arm] for arm in results]


def test_local_workers_give_the_sequential_numbers(tmp_path):
    calls = {"seq": [], "workers": []}
    sequential = run_tasks(train_arm, _tasks(tmp_path, "seq"), on_done=lambda i, k: calls["seq"].append((i, k)))
    workers = run_tasks(
        train_arm, _tasks(tmp_path, "workers"), workers=2, on_done=lambda i, k: calls["workers"].append((i, k))
    )
    assert _numbers(workers) == _numbers(sequential)  # equal, not close: the same arithmetic
    folders = [str(tmp_path / "workers" / "individual" / f"seed_{s}") for s in (0, 1)]
    assert [r["run_dir"] for r in workers[1]] == folders
    # progress: every task reported once as it finished, the count rising 1, 2 whatever the order
    assert calls["seq"] == [(0, 1), (1, 2)]
    assert sorted(i for i, _ in calls["workers"]) == [0, 1] and [k for _, k in calls["workers"]] == [1, 2]
    assert sequential[0][0]["delta"] != sequential[1][0]["delta"]  # the arms differ


@pytest.mark.long
def test_ray_tasks_give_the_sequential_numbers(tmp_path):
    """The arms as Ray tasks on a local Ray started here (``pytest --long``: Ray's start takes
    several seconds; RLlib's tests start one in the suite)."""
    ray = pytest.importorskip("ray")
    calls = []
    sequential = run_tasks(train_arm, _tasks(tmp_path, "seq"))
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)  # the test's own local Ray
    try:
        on_ray = run_tasks(
            train_arm, _tasks(tmp_path, "ray"), address="auto", on_done=lambda i, k: calls.append((i, k))
        )
    finally:
        ray.shutdown()
    assert _numbers(on_ray) == _numbers(sequential)
    assert sorted(i for i, _ in calls) == [0, 1] and [k for _, k in calls] == [1, 2]


def test_bad_workers_or_address_are_refused():
    with pytest.raises(ConfigError, match="workers=0 is invalid"):
        check_parallel(0, None)
    with pytest.raises(ConfigError, match="address='' is invalid"):
        check_parallel(1, "")


def test_address_without_ray_names_the_extra(monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_ray(name, *args, **kwargs):
        if name == "ray" or name.startswith("ray."):
            raise ImportError("No module named 'ray'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_ray)
    with pytest.raises(ConfigError, match="needs Ray, which is not installed: pip install 'evprice\\[distributed\\]'"):
        check_parallel(1, "auto")
