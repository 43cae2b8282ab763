"""Test-wide settings.

Hypothesis runs without per-example deadlines: the properties here are exact (no
statistics), and a slow shared CI machine must not turn a timing hiccup into a failure.
Statistical tests seed their own generators, so every run of the suite sees the same
samples.
"""

from hypothesis import settings

settings.register_profile("evprice", deadline=None, print_blob=True)
settings.load_profile("evprice")
