"""Shared pytest setup for the student tests. pyproject.toml puts backprop/, neuralnet/ and
tests/ on sys.path, as the scripts there expect; kit.py has the helpers."""

import pytest
from kit import rng  # noqa: F401 (the seeded-generator fixture)


def pytest_configure(config):
    """Stop with the drivers' own message when backprop-data.pkl or neuralnet-data.pkl is
    missing or damaged: every test module reads one of them when it is imported, and
    pytest would otherwise show an internal error or a traceback for each."""
    import checks

    import backprop

    for load in (backprop.load_data, checks.load_data):
        try:
            load()
        except SystemExit as err:
            pytest.exit(str(err.code), returncode=4)
