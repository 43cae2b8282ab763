"""Replays: one evaluation episode, rendered, written as a GIF (or an MP4 where ffmpeg is)."""

import shutil
import subprocess

import numpy as np
import pytest
from matplotlib.animation import FFMpegWriter
from PIL import Image

from evprice.analysis import evaluate
from evprice.analysis.replay import (
    ReplayError,
    animation_format,
    play_episode,
    replay,
    replay_policy,
    write_animation,
)
from evprice.core.config import ConfigError
from evprice.envs import make_env
from evprice.learn.trained import load_trained

SHORT = {"horizon_h": 2}  # LogitBertrand-v0: 8 periods of 15 min


def _gif(path):
    im = Image.open(path)
    return im.n_frames, im.size, im.info["duration"]


@pytest.fixture(scope="module")
def mappo_run(tmp_path_factory):
    from evprice.learn import PPOConfig, train

    out = tmp_path_factory.mktemp("mappo")
    cfg = PPOConfig.from_overrides({"total_steps": 64, "num_envs": 4, "rollout_periods": 8, "eval_episodes": 1})
    train("LogitBertrand-v0", cfg, overrides=SHORT, out_dir=out)
    return out


def test_a_baseline_replay_has_one_frame_per_period_plus_the_start(tmp_path):
    out = replay_policy("LogitBertrand-v0", "fixed", tmp_path / "sub" / "fixed.gif", overrides=SHORT, fps=4)
    assert out == tmp_path / "sub" / "fixed.gif"
    frames, size, duration = _gif(out)
    assert frames == 8 + 1 and size == (720, 224) and duration == 250  # 1000 ms / 4 fps


def test_the_episode_is_the_one_evaluate_plays():
    for env_id, policy, overrides in [("PublicCharging-v0", "random", SHORT), ("CoupledNetwork-v0", "fixed", {})]:
        episode = play_episode(env_id, policy, overrides=overrides, seed=7)
        summary = evaluate(env_id, policy, episodes=1, seed=7, overrides=overrides)
        n_periods = make_env(env_id, 1, **overrides).n_periods
        assert len(episode.frames) == n_periods + 1 and episode.policy == policy
        assert episode.profit.sum() == pytest.approx(summary["market"]["profit"])
        np.testing.assert_allclose(episode.profit, [s["profit"] for s in summary["stations"]])
        if "costs" in summary:
            assert episode.cost == pytest.approx(summary["costs"]["total"])


def test_replay_of_a_trained_run_writes_into_the_run_folder(mappo_run):
    out = replay(mappo_run, seed=2)
    assert out == mappo_run / "replay.gif"
    assert _gif(out)[0] == 8 + 1
    # its frames are the trained policy's episode, played by hand
    from evprice.learn import load_policy

    _, _, policy = load_policy(mappo_run)
    env = make_env("LogitBertrand-v0", 1, **SHORT)
    env.render_mode = "rgb_array"
    obs, frames = env.reset(seed=2), [env.render()]
    for _ in range(env.n_periods):
        obs = env.step(policy(obs))[0]
        frames.append(env.render())
    env_id, overrides, factory = load_trained(mappo_run / "checkpoints" / "last.pt")
    assert (env_id, overrides) == ("LogitBertrand-v0", SHORT)
    episode = play_episode(env_id, factory, overrides=overrides, seed=2)
    assert episode.policy == "checkpoint"
    for a, b in zip(episode.frames, frames):
        np.testing.assert_array_equal(a, b)
    with pytest.raises(ConfigError, match="prices 2 stations"):
        factory(make_env("LogitBertrand-v0", 1, n_stations=3))


def test_replay_of_a_safe_planner(tmp_path):
    from evprice.learn.safe import SafeRLConfig, train_ccem

    small = {
        "total_steps": 24,
        "random_steps": 12,
        "retrain_every": 12,
        "planner": {"population": 20, "n_elites": 4, "particles": 2, "iterations": 2, "horizon": 2},
        "model": {"hidden_sizes": (8,), "max_epochs": 3, "n_members": 2, "n_elites": 1},
    }
    train_ccem("CoupledNetwork-v0", SafeRLConfig.from_overrides(small), out_dir=tmp_path)
    out = replay(tmp_path, tmp_path / "planner.gif", fps=1)
    frames, size, duration = _gif(out)
    assert frames == 12 + 1 and size == (720, 268) and duration == 1000


def test_formats_and_frame_rates_are_checked_before_playing(tmp_path, monkeypatch):
    assert animation_format("a/b.GIF") == "gif" and animation_format("x", "mp4") == "mp4"
    with pytest.raises(ReplayError, match=r"out_path='x.avi' is invalid: .*\.gif or \.mp4"):
        replay_policy("LogitBertrand-v0", "fixed", "x.avi")
    with pytest.raises(ReplayError, match="fmt='webm' is invalid: expected one of 'gif', 'mp4'"):
        animation_format("x", "webm")
    with pytest.raises(ReplayError, match="does not match"):
        animation_format("x.gif", "mp4")
    for fps in (0, -1, float("nan"), 100, True):
        with pytest.raises(ReplayError, match="fps=.* is invalid: expected a number in \\(0, 50\\]"):
            replay_policy("LogitBertrand-v0", "fixed", tmp_path / "a.gif", fps=fps)
    with pytest.raises(ReplayError, match=r"frames\[1\] has shape \(4, 4, 3\)"):
        write_animation([np.zeros((2, 2, 3), np.uint8), np.zeros((4, 4, 3), np.uint8)], tmp_path / "a.gif")
    monkeypatch.setattr(FFMpegWriter, "isAvailable", classmethod(lambda cls: False))
    with pytest.raises(ReplayError, match="needs the ffmpeg program.*write a .gif instead"):
        replay_policy("LogitBertrand-v0", "fixed", tmp_path / "a.mp4")
    assert not list(tmp_path.iterdir())  # nothing written


@pytest.mark.skipif(not FFMpegWriter.isAvailable(), reason="ffmpeg is not installed")
def test_mp4_where_ffmpeg_is_installed(tmp_path):
    frames = [np.full((224, 720, 3), v, np.uint8) for v in (0, 128, 255)]
    out = write_animation(frames, tmp_path / "a.mp4", fps=2)
    data = out.read_bytes()
    assert data[4:8] == b"ftyp" and len(data) > 100  # an ISO media file
    out = replay_policy("LogitBertrand-v0", "nash", tmp_path / "nash.mp4", overrides=SHORT)
    assert out.stat().st_size > 1000
    if shutil.which("ffprobe"):
        probe = subprocess.run(
            ["ffprobe", "-v", "error", "-count_frames", "-select_streams", "v:0", "-show_entries"]
            + ["stream=nb_read_frames,width,height", "-of", "csv=p=0", str(out)],
            capture_output=True,
            text=True,
            check=True,
        )
        assert probe.stdout.strip() == "720,224,9"  # 8 periods and the start


def test_replay_of_a_mediated_market_is_the_episode_evaluate_plays():
    """Issue 23: under a protocol the frames follow the stations (not the mediator) and the
    replayed profits are evaluate's on the same seed."""
    overrides = {"protocol": "mediator", "horizon_h": 1.0}
    episode = play_episode("PublicCharging-v0", "random", overrides=overrides, seed=3)
    assert len(episode.frames) == 5 and episode.profit.shape == (2,)
    report = evaluate("PublicCharging-v0", "random", episodes=1, seed=3, overrides=overrides)
    np.testing.assert_allclose(episode.profit, [s["profit"] for s in report["stations"]])
