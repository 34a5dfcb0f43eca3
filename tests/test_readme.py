from pathlib import Path

from whistle.demo.logins import demo_login_rows

README = Path(__file__).resolve().parent.parent / "README.md"


def test_the_readme_starts_with_the_two_commands():
    lines = README.read_text(encoding="utf-8").splitlines()
    commands = [line for line in lines[:10] if line.startswith("make ")]
    assert [c.split()[:2] for c in commands] == [["make", "run"], ["make", "test"]]


def test_the_readme_lists_every_demo_login():
    text = README.read_text(encoding="utf-8")
    for row in demo_login_rows():
        assert f"`{row.username}`" in text, row.username
