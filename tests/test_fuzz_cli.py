"""Fuzzing the CLI (issue 19): whatever a user types, a command succeeds or prints one usage
error (exit 2), never a traceback. ``EVPRICE_FUZZ_EXAMPLES`` scales the profile as in
``tests/test_fuzz_configs.py``."""

from __future__ import annotations

import os

from click.testing import CliRunner
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from evprice.cli import main
from evprice.envs import registered_ids, spec

EXAMPLES = int(os.environ.get("EVPRICE_FUZZ_EXAMPLES", "60"))
KEYS = sorted({k for env_id in registered_ids() for k in spec(env_id).config_cls.field_names()})
TEXT = st.one_of(
    st.sampled_from(["", "-1", "0", "1", "2.5", "1e300", "nan", "inf", "[1, 2]", "{a: 1}", "null", "true", "x"]),
    st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=10),
)
COMMANDS = st.sampled_from(["rollout", "evaluate", "theory", "config"])


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    phases=(Phase.explicit, Phase.reuse, Phase.generate),
)
@given(
    command=COMMANDS,
    env_id=st.one_of(st.sampled_from(registered_ids()), st.text(max_size=6)),
    key=st.one_of(st.sampled_from(KEYS), st.text(max_size=6)),
    value=TEXT,
    option=st.sampled_from(["--episodes", "--seed", "--price", "--markup", "--leader", None]),
    option_value=TEXT,
)
def test_no_input_ends_in_a_traceback(command, env_id, key, value, option, option_value):
    args = [command, "--env", env_id, "--set", f"{key}={value}", "--set", "horizon_h=1"]
    if command == "evaluate":
        args += ["--policy", "fixed"]
    if command in ("rollout", "evaluate"):
        args += ["--episodes", "1"]
    if option is not None:
        args += [option, option_value]
    result = CliRunner().invoke(main, args)
    unexpected = result.exception is not None and not isinstance(result.exception, SystemExit)
    assert not unexpected and result.exit_code in (0, 2), (args, result.output[-2000:], repr(result.exception))
