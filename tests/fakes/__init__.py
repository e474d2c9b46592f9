"""Test doubles shared by several suites (contract, cycle, integration)."""
