"""The layers of docs/architecture.md, enforced: dependencies run one way."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "whistle"

# Each app and the apps it may import (besides itself). Keep in step with
# docs/architecture.md.
ALLOWED: dict[str, set[str]] = {
    "organisation": {"env", "checks"},
    "policies": {"organisation"},
    "notifications": {"organisation"},
    "cases": {"organisation", "policies", "notifications"},
    "assessment": {"organisation", "policies", "notifications", "cases", "patrols"},
    "importing": {"organisation", "policies", "cases", "assessment"},
    "demo": {"organisation", "policies", "notifications", "cases", "assessment", "patrols"},
    "patrols": {"organisation", "policies", "notifications", "cases"},
    "web": {"organisation", "policies", "notifications", "cases", "assessment", "patrols"},
    "street": {"organisation", "policies", "notifications", "cases", "patrols", "web"},
    "district": {
        "organisation",
        "policies",
        "notifications",
        "cases",
        "assessment",
        "patrols",
        "web",
    },
    "desk": {"organisation", "policies", "notifications", "cases", "assessment", "web"},
    "api": {"organisation", "policies", "notifications", "cases", "assessment"},
}


def imported_apps(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    apps: set[str] = set()
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
            if node.module == "whistle":
                names = [f"whistle.{alias.name}" for alias in node.names]
        for name in names:
            parts = name.split(".")
            if parts[0] == "whistle" and len(parts) > 1:
                apps.add(parts[1])
    return apps


def app_modules() -> list[tuple[str, Path]]:
    found: list[tuple[str, Path]] = []
    for app in sorted(ALLOWED):
        folder = PACKAGE / app
        if folder.is_dir():
            found.extend(
                (app, p) for p in sorted(folder.rglob("*.py")) if "migrations" not in p.parts
            )
    return found


@pytest.mark.parametrize(("app", "path"), app_modules(), ids=lambda v: str(v))
def test_each_module_imports_only_what_its_layer_allows(app, path):
    forbidden = imported_apps(path) - ALLOWED[app] - {app}
    assert not forbidden, f"{path.relative_to(PACKAGE.parent)} imports {sorted(forbidden)}"


def test_every_app_has_a_place_in_the_layers():
    apps = {p.name for p in PACKAGE.iterdir() if (p / "apps.py").exists()}
    assert apps <= set(ALLOWED), f"add {sorted(apps - set(ALLOWED))} to ALLOWED and the doc"
