"""Elastic's YAML REST tests, run through the real elasticsearch-py client."""
