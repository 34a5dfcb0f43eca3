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
    "duty": {"organisation", "policies", "notifications"},
    "cases": {"organisation", "policies", "notifications", "duty"},
    "assessment": {"organisation", "policies", "notifications", "duty", "cases", "patrols"},
    "township": {
        "organisation",
        "policies",
        "notifications",
        "duty",
        "cases",
        "assessment",
        "patrols",
    },
    "importing": {"organisation", "policies", "duty", "cases", "assessment"},
    "demo": {
        "organisation",
        "policies",
        "notifications",
        "duty",
        "cases",
        "assessment",
        "patrols",
        "township",
    },
    # The simulator builds on the demo city's shapes and stories.
    "simulation": {
        "organisation",
        "policies",
        "notifications",
        "duty",
        "cases",
        "assessment",
        "patrols",
        "demo",
    },
    "patrols": {"organisation", "policies", "notifications", "duty", "cases"},
    "web": {
        "same_site",
        "organisation",
        "policies",
        "notifications",
        "duty",
        "cases",
        "assessment",
        "patrols",
    },
    "street": {
        "organisation",
        "policies",
        "notifications",
        "duty",
        "cases",
        # A chief's own standing against the patrol requirement (`assessment.chiefs`).
        "assessment",
        "patrols",
        "township",
        "web",
    },
    "district": {
        "organisation",
        "policies",
        "notifications",
        "duty",
        "cases",
        "assessment",
        "patrols",
        "township",
        "web",
    },
    "desk": {
        "organisation",
        "policies",
        "notifications",
        "duty",
        "cases",
        "assessment",
        "township",
        "web",
    },
    # Nothing imports the API: it sits beside the pages, on top of the domain.
    "api": {"organisation", "policies", "notifications", "duty", "cases", "assessment", "patrols"},
    # The contact address log's leaves of the trail checkpoints (`accounts.checkpoint`).
    "accounts": {"same_site", "organisation", "notifications", "cases", "demo"},
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


# --- No import cycles ---------------------------------------------------------------------

# Calls that import a module named by a string, at the moment they run.
_DYNAMIC_IMPORTS = {"import_module", "import_string"}


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def package_modules(root: Path) -> dict[str, Path]:
    """Every module of the package at `root` by its dotted name, migrations left out."""
    return {
        module_name(path, root): path
        for path in sorted(root.rglob("*.py"))
        if "migrations" not in path.parts
    }


def _type_checking_only(node: ast.AST) -> bool:
    test = getattr(node, "test", None)
    return isinstance(node, ast.If) and (
        (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING")
        or (isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")
    )


def _runtime_nodes(tree: ast.AST) -> list[ast.AST]:
    """The nodes that run: everything but the body of `if TYPE_CHECKING:`."""
    found: list[ast.AST] = []
    pending = [tree]
    while pending:
        node = pending.pop()
        found.append(node)
        if _type_checking_only(node):
            pending.extend(getattr(node, "orelse", []))
            continue
        pending.extend(ast.iter_child_nodes(node))
    return found


def imported_modules(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """The package's modules that `name` imports, at the top or inside functions, by an
    import statement or by a string handed to `importlib.import_module` or `import_string`."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    targets: set[str] = set()

    def add(dotted: str) -> None:
        # "a.b.c" is module a.b.c, or attribute c of module a.b.
        while dotted and dotted not in modules:
            dotted = dotted.rpartition(".")[0]
        if dotted and dotted != name:
            targets.add(dotted)

    for node in _runtime_nodes(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                add(alias.name)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            for alias in node.names:
                add(f"{base}.{alias.name}")
        elif isinstance(node, ast.Call):
            function = node.func
            called = function.attr if isinstance(function, ast.Attribute) else None
            called = function.id if isinstance(function, ast.Name) else called
            first = node.args[0] if node.args else None
            if (
                called in _DYNAMIC_IMPORTS
                and isinstance(first, ast.Constant)
                and isinstance(first.value, str)
            ):
                add(first.value)
    return targets


def import_cycles(modules: dict[str, Path]) -> list[list[str]]:
    """The groups of modules that import each other, directly or through others (Tarjan's
    strongly connected components of more than one module)."""
    graph = {name: sorted(imported_modules(name, path, modules)) for name, path in modules.items()}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []

    def visit(start: str) -> None:
        # Iterative, so that a deep chain of imports cannot exhaust Python's stack.
        work = [(start, iter(graph[start]))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, edges = work[-1]
            following = next(edges, None)
            if following is not None:
                if following not in index:
                    index[following] = low[following] = len(index)
                    stack.append(following)
                    on_stack.add(following)
                    work.append((following, iter(graph[following])))
                elif following in on_stack:
                    low[node] = min(low[node], index[following])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                group = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    group.append(member)
                    if member == node:
                        break
                if len(group) > 1:
                    cycles.append(sorted(group))

    for name in sorted(graph):
        if name not in index:
            visit(name)
    return cycles


def test_the_cycle_finder_follows_lazy_imports_by_name(tmp_path):
    root = tmp_path / "town"
    root.mkdir()
    (root / "__init__.py").write_text("")
    (root / "sweep.py").write_text(
        "import importlib\n\ndef actions():\n    return importlib.import_module('town.actions')\n"
    )
    (root / "actions.py").write_text("from town.sweep import actions as later\n")
    (root / "calendar.py").write_text("from . import sweep\n")
    assert import_cycles(package_modules(root)) == [["town.actions", "town.sweep"]]


def test_imports_under_type_checking_do_not_count(tmp_path):
    root = tmp_path / "town"
    root.mkdir()
    (root / "__init__.py").write_text("")
    (root / "a.py").write_text("from town import b\n")
    (root / "b.py").write_text(
        "from typing import TYPE_CHECKING\n\nif TYPE_CHECKING:\n    from town import a\n"
    )
    assert import_cycles(package_modules(root)) == []


@pytest.mark.parametrize("app", sorted(ALLOWED))
def test_the_modules_of_each_app_import_one_another_without_a_cycle(app):
    modules = {
        name: path
        for name, path in package_modules(PACKAGE).items()
        if name.split(".")[1:2] == [app]
    }
    assert import_cycles(modules) == []
