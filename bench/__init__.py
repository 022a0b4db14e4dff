"""Benchmark scripts on the real data (numbers for BENCHMARKS.md); run each as a script."""
