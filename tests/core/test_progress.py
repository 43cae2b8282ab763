"""Progress lines for logs: whole lines, one per tenth of the work, and a summary line."""

import io

import pytest

from evprice.core.progress import LogProgress, duration_text, eta_line


def test_duration_text():
    assert [duration_text(s) for s in (0, 42.4, 61, 3599, 3725)] == ["0 s", "42 s", "1 min 01 s", "59 min 59 s",
                                                                     "1 h 02 min"]  # fmt: skip


def test_eta_line_assumes_the_remaining_parts_take_the_mean_time():
    # 2 of 8 arms in 10 s: 6 more at 5 s each
    assert eta_line("arms", 2, 8, 10.0) == "arms: 2/8, 10 s elapsed, about 30 s left"
    assert eta_line("run", 8, 8, 75.0, "arms") == "run: 8/8 arms, 1 min 15 s elapsed"


def test_eta_line_with_parallel_workers_counts_the_parts_already_running():
    # two arms on two workers, both started at 0: when the first finishes the second is
    # about done too (the Sioux Falls run said "about 25 min 55 s left" seconds before the end)
    assert eta_line("arms", 1, 2, 1555.0, parallel=2) == "arms: 1/2, 25 min 55 s elapsed, about 0 s left"
    # four arms on two workers, each 10 s: the first finishes at 10 s, the last at 20 s
    assert eta_line("arms", 1, 4, 10.0, parallel=2) == "arms: 1/4, 10 s elapsed, about 10 s left"
    # six arms on two: after 4 in 20 s an arm takes 20 x 2 / 4 = 10 s; 3 waves = 30 s, 10 s left
    assert eta_line("arms", 4, 6, 20.0, parallel=2) == "arms: 4/6, 20 s elapsed, about 10 s left"
    # more workers than arms: as wide as the arms
    assert eta_line("arms", 1, 2, 30.0, parallel=8) == "arms: 1/2, 30 s elapsed, about 0 s left"
    # one at a time: the old estimate
    assert eta_line("arms", 2, 8, 10.0, parallel=1) == "arms: 2/8, 10 s elapsed, about 30 s left"


def test_a_line_per_tenth_whole_and_a_summary_line():
    out = io.StringIO()
    long_status = "return 0.123  profit 1,234.5  16,397 steps/s  eval 29.577 (Delta 0.993) " + "x" * 60
    with LogProgress(stream=out) as progress:
        task = progress.add_task("mappo on LogitBertrand-v0", total=1000, status="")
        for done in range(0, 1001, 50):
            progress.update(task, completed=done, status=long_status)
    lines = out.getvalue().splitlines()
    assert len(lines) == 10  # 100, 200, ..., 900, then the summary
    assert lines[0].startswith("mappo on LogitBertrand-v0: 100/1,000 steps, ") and "left" in lines[0]
    assert all(line.endswith(long_status) for line in lines)  # never cut to a terminal's 80 columns
    assert lines[-1].startswith("mappo on LogitBertrand-v0: done, 1,000/1,000 steps in ")


def test_quiet_prints_nothing_and_an_error_prints_no_summary():
    out = io.StringIO()
    with LogProgress(quiet=True, stream=out) as progress:
        progress.update(progress.add_task("t", total=10), completed=5)
    assert out.getvalue() == ""
    with pytest.raises(RuntimeError):
        with LogProgress(stream=out) as progress:
            progress.add_task("t", total=10)
            raise RuntimeError("stop")
    assert "done" not in out.getvalue()
