"""``python -m capmock`` runs the ``capmock`` command."""

from capmock.cli import main

main()
