"""The `cherish` command line (`cherish.cli.main` registers every command group)."""

from cherish.cli.main import app, main

__all__ = ["app", "main"]
