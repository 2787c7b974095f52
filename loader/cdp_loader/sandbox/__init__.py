"""A local Sitecore CDP Batch API for rehearsals and tests (spec §1-§2, §9-§10).

`Sandbox` serves the protocol over HTTP on loopback; `FaultPlan` stages failures on demand.
Modules, one job each: `handler` (HTTP routes, auth, signed URLs, response shapes),
`batches` (batch lifecycle and the processing worker), `processing` (unpacking and
checking a batch file, the error log), `orders` (the order store and its 24-hour
matching), `faults` (the fault plan and its grammar), `signing` (pre-signed URLs),
`app` (the server's lifecycle).
"""

from cdp_loader.sandbox.app import (
    DEFAULT_API_TOKEN,
    DEFAULT_CLIENT_KEY,
    NotLoopback,
    Sandbox,
    is_loopback,
)
from cdp_loader.sandbox.faults import FaultPlan, FaultSpecError

__all__ = [
    "DEFAULT_API_TOKEN",
    "DEFAULT_CLIENT_KEY",
    "FaultPlan",
    "FaultSpecError",
    "NotLoopback",
    "Sandbox",
    "is_loopback",
]
