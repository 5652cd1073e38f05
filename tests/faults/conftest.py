"""Fixtures for the fault tests: a misbehaving local HTTP server and a fake clock."""

from __future__ import annotations

from tests.faults.faults_server import fault_server

__all__ = ["fault_server"]
