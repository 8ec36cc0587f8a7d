"""`python -m cherish` runs the command line."""

from cherish.cli import app

app()
