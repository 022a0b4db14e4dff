"""Fixtures for the staff tests: the same seeded generator as the student tests."""

from kit import rng  # noqa: F401
