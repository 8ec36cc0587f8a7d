"""`python -m cherish` runs the command line, under the name its help and errors show."""

from cherish.cli import app

app(prog_name="cherish")
