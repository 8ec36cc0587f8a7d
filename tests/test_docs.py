"""The README documents every setting, and only real ones."""

from __future__ import annotations

import re
from pathlib import Path

from cherish.config import Settings

README = Path(__file__).resolve().parent.parent / "README.md"


def test_every_setting_is_in_the_readme_table():
    text = README.read_text()
    documented = set(re.findall(r"^\| `(CHERISH_[A-Z_]+)` \|", text, flags=re.M))
    declared = {f"CHERISH_{name.upper()}" for name in Settings.model_fields}
    assert declared - documented == set(), "settings missing from the README table"
    assert documented - declared == set(), "README documents settings that do not exist"


def test_readme_opens_with_the_two_command_quick_start():
    text = README.read_text()
    quick = text.split("## Quick start", 1)[1].split("##", 1)[0]
    commands = re.findall(r"^(make \w+)", quick, flags=re.M)
    assert commands == ["make demo", "make test"]
