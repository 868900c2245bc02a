"""``python -m capmock`` runs the ``capmock`` command (and names itself so in messages)."""

from capmock.cli import main

main(prog_name="capmock")
