"""The ``collusion-qlearning`` experiment: Calvano et al. (2020)'s tabular Q-learning sessions."""

from __future__ import annotations

from pathlib import Path

from evprice.analysis import figures
from evprice.analysis.experiments import (
    Experiment,
    ExperimentResult,
    ExperimentSettings,
    markdown_table,
    register,
)
from evprice.analysis.studies.arms import _session_progress


def _collusion_qlearning(settings: ExperimentSettings, out: Path) -> ExperimentResult:
    from evprice.analysis.qlearning import QLearningConfig, run_sessions, summarise

    config = QLearningConfig() if settings.steps is None else QLearningConfig(max_periods=settings.steps)
    result = run_sessions(
        settings.seeds, config, seed=0, overrides=dict(settings.overrides), on_block=_session_progress(settings, config)
    )
    summary = summarise(result)
    rows = [
        {
            "session": k,
            "converged": bool(result.converged[k]),
            "periods": int(result.periods[k]),
            "delta": float(result.delta[k]),
            "cycle_length": int(result.cycle_length[k]),
            "cycle_prices": result.cycle_prices[k].tolist(),
            "cycle_profit": result.cycle_profit[k].tolist(),
        }
        for k in range(settings.seeds)
    ]
    d = summary["delta"]
    ci = d["ci95"]
    nash, joint = summary["nash"]["prices"], summary["joint"]["prices"]
    figs = [
        (
            "Delta of each session (0 = Nash, 1 = joint profit)",
            figures.histogram(
                out / "figures" / "delta_sessions.png",
                result.delta,
                title=f"Delta over {settings.seeds} sessions",
                xlabel="Delta",
                references={"Nash": 0.0, "joint": 1.0, "mean": float(d["mean"])},
            ),
        )
    ]
    if result.cycle_prices.shape[1] == 2:
        figs.append(
            (
                "Long-run prices of each session (averaged over its cycle), with the Nash and joint prices",
                figures.scatter(
                    out / "figures" / "cycle_prices.png",
                    result.cycle_prices[:, 0],
                    result.cycle_prices[:, 1],
                    title="Long-run prices",
                    xlabel="station 1 price",
                    ylabel="station 2 price",
                    marks={"Nash": (nash[0], nash[1]), "joint": (joint[0], joint[1])},
                ),
            )
        )
    table = markdown_table(
        ["sessions", "converged", "mean Delta", "95% CI", "median Delta", "mean periods to converge", "fixed points"],
        [
            [
                settings.seeds,
                f"{summary['converged_share']:.0%}",
                float(d["mean"]),
                "-" if ci is None else f"[{ci[0]:.3f}, {ci[1]:.3f}]",
                float(d["median"]),
                "-" if summary["periods"]["mean_converged"] is None else f"{summary['periods']['mean_converged']:,.0f}",
                f"{summary['cycle_length']['share_constant']:.0%}",
            ]
        ],
    )
    notes = [
        f"Mean Delta {d['mean']:.3f} over {settings.seeds} sessions; Calvano et al. (2020) report about 0.85 "
        "over 1,000 sessions with the same settings (two firms, 15 prices, memory one, discount 0.95, "
        "learning rate 0.15, beta 4e-6).",
        f"{summary['converged_share']:.0%} of the sessions converged (greedy strategies unchanged for "
        f"{config.convergence_periods:,} periods, within {config.max_periods:,} periods).",
        "Long-run prices (averaged over each session's cycle): "
        + ", ".join(f"{p:.3f}" for p in summary["cycle_prices_mean"])
        + f" against Nash {nash[0]:.3f} and joint {joint[0]:.3f}.",
    ]
    return ExperimentResult(
        question="Do two tabular Q-learning stations, each maximising its own discounted profit, learn "
        "to charge supra-competitive prices without communicating (algorithmic collusion)?",
        rows=rows,
        summary=summary,
        tables=[("Sessions", table)],
        figures=figs,
        notes=notes,
        settings_line=f"Settings: {settings.seeds} independent sessions, at most {config.max_periods:,} periods each "
        f"({', '.join(f'{k} {v}' for k, v in config.to_dict().items())})",
    )


COLLUSION = register(
    Experiment(
        name="collusion-qlearning",
        description="Calvano et al. (2020): two tabular Q-learning stations on LogitBertrand-v0; "
        "--seeds is the number of independent sessions, --steps caps the periods per session.",
        default_steps=None,
        run=_collusion_qlearning,
    )
)
