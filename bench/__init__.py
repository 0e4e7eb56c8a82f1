"""pytest-benchmark suites: get/mget throughput of esbackend, the fake, and their baselines."""
