"""Replay: one evaluation episode of a policy as an animated GIF or MP4 (``evprice replay``).

* :func:`replay`: a trained policy (a run folder or ``.pt`` checkpoint of ``evprice train
  mappo|ippo|ccem``), on the environment and config it was trained on;
* :func:`replay_policy`: any policy: a baseline's name (``"fixed"``, ``"nash"``, ...) or a
  factory ``factory(env) -> policy``, on any registered environment;
* :func:`play_episode`: the episode's frames and totals, without writing a file;
* :func:`write_animation`: frames to a GIF (Pillow) or an MP4 (matplotlib's ffmpeg writer).

The episode is that of ``evprice evaluate --episodes 1 --seed S``: one environment member,
reset with ``seed``, the policy built for it as ``evaluate`` builds it, so its totals are
those ``evaluate`` reports. It has ``n_periods + 1`` frames: the state after reset, then one
after each pricing period (:mod:`evprice.envs.render` says what a frame shows).

torch is imported only to load a trained checkpoint; matplotlib only to draw and for MP4.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from evprice.core.config import ConfigError
from evprice.envs.market_env import MarketEnv
from evprice.envs.registry import make_env
from evprice.envs.render import RENDER_FPS
from evprice.policies.baselines import make_policy

REPLAY_FORMATS = ("gif", "mp4")
"""Animation formats :func:`write_animation` writes (chosen by ``fmt`` or the file's suffix)."""
DEFAULT_NAME = "replay.gif"
"""File :func:`replay` writes in the run folder when no ``out_path`` is given."""


class ReplayError(ConfigError):
    """A replay cannot be written as asked (format, frame rate, a missing ffmpeg); the message says why."""


@dataclass(frozen=True)
class Episode:
    """One rendered episode.

    Attributes:
        env_id: the environment played.
        policy: the policy's name.
        frames: ``n_periods + 1`` frames, each (H, W, 3) uint8: after reset, then after each period.
        profit: (N,) each station's profit over the episode, currency.
        cost: the episode's summed constraint cost (``info["cost"]``; 0 without a grid).
    """

    env_id: str
    policy: str
    frames: list[np.ndarray]
    profit: np.ndarray
    cost: float


def play_episode(
    env_id: str,
    policy: str | Callable[[MarketEnv], Any],
    *,
    overrides: Mapping[str, Any] | None = None,
    seed: int = 0,
    policy_options: Mapping[str, Any] | None = None,
    on_period: Callable[[int, int], None] | None = None,
) -> Episode:
    """Play one episode of ``env_id`` (one member, reset with ``seed``) under ``policy``,
    rendering every step.

    ``policy`` is a registered baseline name (with ``policy_options`` such as ``price``) or
    ``factory(env) -> policy``; ``on_period(done, total)`` is called after each period.
    """
    env = make_env(env_id, 1, **(overrides or {}))
    env.render_mode = "rgb_array"
    if callable(policy):
        pol = policy(env)
        name = getattr(pol, "name", getattr(policy, "__name__", "policy"))
    else:
        pol = make_policy(policy, env, seed=seed, **(policy_options or {}))
        name = getattr(pol, "name", policy)
    obs = env.reset(seed)
    frames = [env.render()]
    profit = np.zeros(env.n_stations)
    cost = 0.0
    for k in range(env.n_periods):
        obs, _, _, _, info = env.step(pol(obs))
        profit += info["profit"][0]
        cost += float(np.max(info["cost"][0]))
        frames.append(env.render())
        if on_period is not None:
            on_period(k + 1, env.n_periods)
    env.close()
    return Episode(env_id, str(name), frames, profit, cost)


def animation_format(out_path: str | Path, fmt: str | None = None) -> str:
    """The format to write ``out_path`` in: ``fmt``, or the file's suffix; raises :class:`ReplayError`
    when it is not one of :data:`REPLAY_FORMATS` or contradicts the suffix."""
    suffix = Path(out_path).suffix.lower().lstrip(".")
    allowed = ", ".join(repr(f) for f in REPLAY_FORMATS)
    if fmt is None:
        if suffix not in REPLAY_FORMATS:
            raise ReplayError(
                f"out_path={str(out_path)!r} is invalid: "
                f"expected a file name ending in .gif or .mp4 (formats {allowed})"
            )
        return suffix
    if fmt not in REPLAY_FORMATS:
        raise ReplayError(f"fmt={fmt!r} is invalid: expected one of {allowed}")
    if suffix and suffix != fmt:
        raise ReplayError(f"fmt={fmt!r} does not match out_path={str(out_path)!r}: name the file .{fmt}")
    return fmt


def _check_fps(fps: Any) -> float:
    ok = isinstance(fps, (int, float, np.integer, np.floating)) and not isinstance(fps, bool)
    if not ok or not math.isfinite(fps) or not 0 < fps <= 50:
        raise ReplayError(f"fps={fps!r} is invalid: expected a number in (0, 50] (frames per second)")
    return float(fps)


def write_animation(
    frames: Sequence[np.ndarray], out_path: str | Path, *, fps: float = RENDER_FPS, fmt: str | None = None
) -> Path:
    """Write ``frames`` (each (H, W, 3) uint8, all one size) as an animation; returns the path.

    GIF: Pillow, looping, ``1000 / fps`` ms a frame (rounded to GIF's 10 ms). MP4: H.264
    through matplotlib's ``FFMpegWriter``, which needs the ``ffmpeg`` program; without it a
    :class:`ReplayError` says so and suggests ``.gif``. The folder is created if needed.
    """
    kind = animation_format(out_path, fmt)
    fps = _check_fps(fps)
    if len(frames) == 0:
        raise ReplayError("frames is empty: expected at least one (H, W, 3) uint8 frame")
    shape = frames[0].shape
    for i, f in enumerate(frames):
        if f.shape != shape or f.dtype != np.uint8 or f.ndim != 3 or f.shape[2] != 3:
            raise ReplayError(
                f"frames[{i}] has shape {f.shape} and dtype {f.dtype}: expected (H, W, 3) uint8 like frames[0] {shape}"
            )
    out = Path(out_path)
    if kind == "mp4":
        _check_ffmpeg()
    out.parent.mkdir(parents=True, exist_ok=True)
    if kind == "gif":
        from PIL import Image

        images = [Image.fromarray(f) for f in frames]
        images[0].save(
            out, save_all=True, append_images=images[1:], duration=int(round(1000 / fps)), loop=0, optimize=False
        )
    else:
        _write_mp4(frames, out, fps)
    return out


def _check_ffmpeg() -> None:
    from matplotlib.animation import FFMpegWriter

    if not FFMpegWriter.isAvailable():
        import matplotlib as mpl

        raise ReplayError(
            f"writing an MP4 needs the ffmpeg program, and {mpl.rcParams['animation.ffmpeg_path']!r} was not found: "
            "install ffmpeg (e.g. apt-get install ffmpeg, or conda install ffmpeg) or write a .gif instead"
        )


def _write_mp4(frames: Sequence[np.ndarray], out: Path, fps: float) -> None:
    from matplotlib.animation import FFMpegWriter
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    h, w = frames[0].shape[:2]
    pad = ((0, h % 2), (0, w % 2), (0, 0))  # H.264 with yuv420p needs even sides
    dpi = 100
    fig = Figure(figsize=((w + w % 2) / dpi, (h + h % 2) / dpi), dpi=dpi)
    FigureCanvasAgg(fig)
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_axis_off()
    image = ax.imshow(np.pad(frames[0], pad, mode="edge"), interpolation="nearest")
    writer = FFMpegWriter(fps=fps, codec="h264")
    with writer.saving(fig, str(out), dpi):
        for f in frames:
            image.set_data(np.pad(f, pad, mode="edge"))
            writer.grab_frame()


def replay_policy(
    env_id: str,
    policy: str | Callable[[MarketEnv], Any],
    out_path: str | Path,
    *,
    overrides: Mapping[str, Any] | None = None,
    seed: int = 0,
    fps: float = RENDER_FPS,
    fmt: str | None = None,
    policy_options: Mapping[str, Any] | None = None,
    on_period: Callable[[int, int], None] | None = None,
) -> Path:
    """Play one episode of ``env_id`` under ``policy`` (:func:`play_episode`) and write it to
    ``out_path`` (:func:`write_animation`); returns the path. The format and frame rate are
    checked before the episode is played."""
    _check_fps(fps)
    if animation_format(out_path, fmt) == "mp4":
        _check_ffmpeg()
    episode = play_episode(
        env_id, policy, overrides=overrides, seed=seed, policy_options=policy_options, on_period=on_period
    )
    return write_animation(episode.frames, out_path, fps=fps, fmt=fmt)


def run_folder_of(path: str | Path) -> Path:
    """The run folder of a run folder or checkpoint path (``RUN/checkpoints/last.pt`` -> ``RUN``)."""
    p = Path(path)
    if p.is_dir():
        return p.parent if p.name == "checkpoints" else p
    return p.parent.parent if p.parent.name == "checkpoints" else p.parent


def replay(
    run_dir_or_checkpoint: str | Path,
    out_path: str | Path | None = None,
    *,
    seed: int = 0,
    fps: float = RENDER_FPS,
    fmt: str | None = None,
) -> Path:
    """Animate one evaluation episode of a trained policy on the environment it was trained
    on (with its config overrides); returns the file written.

    Args:
        run_dir_or_checkpoint: a run folder of ``evprice train mappo|ippo|ccem`` or a ``.pt``
            checkpoint.
        out_path: ``.gif`` or ``.mp4``; default ``replay.gif`` in the run folder.
        seed: the episode's seed (the episode ``evaluate --episodes 1 --seed seed`` plays).
        fps: frames (pricing periods) per second, in (0, 50].
        fmt: ``"gif"`` or ``"mp4"``; default: from ``out_path``'s suffix.
    """
    out = run_folder_of(run_dir_or_checkpoint) / DEFAULT_NAME if out_path is None else Path(out_path)
    animation_format(out, fmt)
    _check_fps(fps)
    from evprice.learn.trained import load_trained

    env_id, overrides, factory = load_trained(run_dir_or_checkpoint)
    return replay_policy(env_id, factory, out, overrides=overrides, seed=seed, fps=fps, fmt=fmt)
