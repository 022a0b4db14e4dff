"""Tests of the course tooling and of the reference solution beyond the student tests."""
