"""``render_mode``, ``render()`` and ``close()`` shared by the views over one :class:`MarketEnv`."""

from __future__ import annotations

import numpy as np

from evprice.envs.market_env import MarketEnv


class RenderView:
    """Mixin for a view holding its environment in ``self.env``: the render mode lives on the
    environment (validated there), so every view of it agrees."""

    env: MarketEnv

    @property
    def render_mode(self) -> str | None:
        """The wrapped environment's render mode (None or ``"rgb_array"``)."""
        return self.env.render_mode

    @render_mode.setter
    def render_mode(self, mode: str | None) -> None:
        self.env.render_mode = mode

    def render(self) -> np.ndarray | None:
        """``(H, W, 3)`` ``uint8`` picture of the market (member 0) with ``render_mode="rgb_array"``;
        None (with a warning) without a render mode."""
        return self.env.render()

    def close(self) -> None:
        self.env.close()
