"""Shared pytest setup for the student tests. pyproject.toml puts backprop/, neuralnet/ and
tests/ on sys.path, as the scripts there expect; kit.py has the helpers."""

from kit import rng  # noqa: F401 (the seeded-generator fixture)
