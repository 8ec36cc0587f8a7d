"""Every command's help reads well: no Python types, a line for every option and argument."""

from __future__ import annotations

import re

import typer.main
from typer.testing import CliRunner

from cherish.cli import app


def _commands(command, path=()):  # type: ignore[no-untyped-def]
    yield path, command
    for name, sub in getattr(command, "commands", {}).items():
        yield from _commands(sub, (*path, name))


def test_every_command_has_help_without_type_noise():
    runner = CliRunner()
    walked = list(_commands(typer.main.get_command(app)))
    assert len(walked) > 20  # the walk reaches the subcommands, not only the root
    for path, command in walked:
        result = runner.invoke(app, [*path, "--help"], env={"COLUMNS": "200"})
        assert result.exit_code == 0, (path, result.output)
        noise = re.findall(r"<(?:bool|str|int|float|path|int range|float range)>", result.output)
        assert not noise, f"`cherish {' '.join(path)} --help` shows {noise}"
        for param in command.params:
            assert (param.help or "").strip(), f"`cherish {' '.join(path)}`: {param.opts[0]} has no help line"
            if not getattr(param, "is_flag", False):
                assert param.metavar, f"`cherish {' '.join(path)}`: {param.opts[0]} has no metavar"


def test_flags_show_no_value_and_values_say_what_to_type():
    result = CliRunner().invoke(app, ["demo", "--help"], env={"COLUMNS": "200"})
    line = {row.split()[1]: row for row in result.output.splitlines() if row.startswith("│ --")}
    assert line["--rebuild"].split()[2] == "Throw"  # a flag takes no value: its help follows its name
    assert line["--db"].split()[2] == "URL" and line["--customers"].split()[2] == "N"
