"""``python -m gateway.cli`` runs the ``lienthong`` command."""

from gateway.cli import main

main(prog_name="lienthong")
