import sys

import pytest

from whistle import cli


@pytest.mark.parametrize(
    ("typed", "runs"),
    [
        (["seed-demo", "--if-empty"], ["seed_demo", "--if-empty"]),
        (["verify-trail", "--case", "AB-CD"], ["verify_trail", "--case", "AB-CD"]),
        (["migrate"], ["migrate"]),
        (["--version"], ["--version"]),
    ],
)
def test_the_whistle_command_accepts_hyphenated_command_names(monkeypatch, typed, runs):
    seen: list[list[str]] = []
    monkeypatch.setattr(sys, "argv", ["/usr/bin/whistle", *typed])
    monkeypatch.setattr(
        "django.core.management.execute_from_command_line", lambda argv: seen.append(argv)
    )
    cli.main()
    assert seen == [["whistle", *runs]]
