"""The loader's commands, one module each; `COMMANDS` is what `cli` registers."""

from __future__ import annotations

import importlib

import click

# Module name -> attribute holding the click command. A module not written yet
# is skipped, so the command line works while the loader grows.
_COMMAND_MODULES = {
    "sample_warehouse": "sample_warehouse",
    "export": "export",
    "validate": "validate",
    "sandbox": "sandbox",
    "ship": "ship",
    "status": "status",
    "run": "run",
}


def _load() -> list[click.Command]:
    commands = []
    for module_name, attribute in _COMMAND_MODULES.items():
        try:
            module = importlib.import_module(f"cdp_loader.commands.{module_name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"cdp_loader.commands.{module_name}":
                continue
            raise
        commands.append(getattr(module, attribute))
    return commands


COMMANDS = _load()
