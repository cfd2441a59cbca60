"""Helpers that run beside the application, never inside a request: the loopback server the tests
and benchmarks start (devserver), and the simulated fleet of tablets (simulate)."""
