import sys
from io import StringIO

import pytest
from django.core.management import call_command

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


@pytest.mark.django_db
def test_on_an_empty_database_the_demo_logins_say_to_load_the_demo_city_first():
    out = StringIO()
    call_command("demo_logins", stdout=out)
    assert out.getvalue().splitlines()[0] == (
        "演示账号尚未加载到此数据库：请先运行 whistle seed-demo 加载演示城区，"
        "然后使用以下账号登录："
    )
