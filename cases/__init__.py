"""The investigator workspace: staff auth, case queue, case view, workflow, audit, statistics."""
from __future__ import annotations

from flask import Flask


def register(app: Flask) -> None:
    from cases.cli import register_cli

    register_cli(app)
