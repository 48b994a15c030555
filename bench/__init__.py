"""Benchmarks: the console against a bare Flask baseline, the full sign-up flow, and user search at scale."""
