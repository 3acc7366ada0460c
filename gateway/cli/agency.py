"""Command group module 'agency' (commands are added by the issue that owns them)."""

from __future__ import annotations

import click


def register(group: click.Group) -> None:
    """Attach this module's commands to the top-level group."""
