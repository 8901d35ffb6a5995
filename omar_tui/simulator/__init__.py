"""A local OMAR-Online for tests, the demo and offline setup checks.

``Simulator`` is a real HTTPS server on loopback with its own small PKI
(``pki``), the upload rules of the specification and switchable faults.
"""

from __future__ import annotations

from omar_tui.simulator.faults import FAULT_NAMES, Faults
from omar_tui.simulator.pki import IssuedCert, SimulatorFiles, ensure_pki
from omar_tui.simulator.server import (
    ReceivedFile,
    RequestCounters,
    Simulator,
    check_loopback,
)

__all__ = [
    "FAULT_NAMES",
    "Faults",
    "IssuedCert",
    "ReceivedFile",
    "RequestCounters",
    "Simulator",
    "SimulatorFiles",
    "check_loopback",
    "ensure_pki",
]
