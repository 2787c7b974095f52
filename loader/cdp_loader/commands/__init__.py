"""The loader's commands, one module each; `COMMANDS` is what `cli` registers."""

from __future__ import annotations

from cdp_loader.commands.export import export
from cdp_loader.commands.report import report
from cdp_loader.commands.run import run
from cdp_loader.commands.sample_warehouse import sample_warehouse
from cdp_loader.commands.sandbox import sandbox
from cdp_loader.commands.ship import ship
from cdp_loader.commands.status import status
from cdp_loader.commands.validate import validate

COMMANDS = (sample_warehouse, export, validate, sandbox, ship, status, run, report)
