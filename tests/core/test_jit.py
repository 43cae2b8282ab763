"""Compiled kernels are cached on disk, or compiled uncached with a warning where they cannot be."""

import importlib

import numba
import pytest

import evprice.core.jit as jit


def test_kernels_are_cached_here():
    assert jit.CACHE is True


def test_without_a_writable_cache_folder_kernels_compile_uncached_with_a_warning(monkeypatch):
    real = numba.njit

    def refusing(*args, **kwargs):  # what numba does when no cache folder can be written
        if kwargs.get("cache"):
            raise RuntimeError("cannot cache function '_probe': no locator available for file 'jit.py'")
        return real(*args, **kwargs)

    monkeypatch.setattr(numba, "njit", refusing)
    try:
        with pytest.warns(RuntimeWarning, match="NUMBA_CACHE_DIR"):
            assert importlib.reload(jit).CACHE is False
    finally:
        monkeypatch.undo()
        importlib.reload(jit)
    assert jit.CACHE is True
