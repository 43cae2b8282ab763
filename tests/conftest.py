"""Test-wide settings.

Hypothesis runs without per-example deadlines: the properties here are exact (no
statistics), and a slow shared CI machine must not turn a timing hiccup into a failure.
Statistical tests seed their own generators, so every run of the suite sees the same
samples.
"""

import os

import pytest
from hypothesis import settings

settings.register_profile("evprice", deadline=None, print_blob=True)
settings.load_profile("evprice")


# -- long checks: opt-in ---------------------------------------------------------------------
# The suite stays within its time budget on a 2-core machine; checks that take several
# seconds each and repeat what a shorter test already covers in kind (a second policy
# distribution learning, a second checkpoint window, the arms on a local Ray cluster) are
# marked ``long`` and run with ``pytest --long`` (or EVPRICE_LONG=1).


def pytest_addoption(parser):
    parser.addoption("--long", action="store_true", default=False, help="also run the checks marked long")


def pytest_configure(config):
    config.addinivalue_line("markers", "long: a check of several seconds, run with --long (or EVPRICE_LONG=1)")


def pytest_collection_modifyitems(config, items):
    if config.getoption("--long") or os.environ.get("EVPRICE_LONG") == "1":
        return
    skip = pytest.mark.skip(reason="a long check: run with pytest --long")
    for item in items:
        if "long" in item.keywords:
            item.add_marker(skip)
