"""The package's layout: no import circle, unique module names, bare package files, and the layers' order.

Read from the source (every ``import`` statement anywhere in a module, those under
``TYPE_CHECKING`` included), so nothing is imported and the test is quick.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "scaling_search"

LAYERS: tuple[frozenset[str], ...] = tuple(frozenset(names) for names in (
    {"support", "errors", "compat"},
    {"models"},
    {"counting"},
    {"coefficients"},
    {"data"},
    {"training"},
    {"stats"},
    {"study"},
    {"execution"},
    {"search"},
    {"validation"},
    {"reporting"},
    {"handoff"},  # timm/torchvision classes, weights and deployable files; a study's family read through search
    {""},  # scaling_search itself: the public API, which names entries of every layer below
    {"cli", "__main__"},
))
"""Each layer by the first name below ``scaling_search``, lowest first: a module imports only its own layer or lower."""

CODE_IN_PACKAGE_FILE = {"scaling_search": "the public API", "scaling_search.cli": "the command's entry point, main"}
"""The package ``__init__`` files that hold more than a docstring, and why."""


def module_files() -> dict[str, Path]:
    """Every module of the package by its dotted name (a package by its own name)."""
    modules = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        modules[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return modules


MODULES = module_files()


def imported(name: str, path: Path) -> Iterator[tuple[str, int]]:
    """The package's modules that module ``name`` imports, with the line of each import."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parent, base] if base else parent)
            targets = [base, *(f"{base}.{alias.name}" for alias in node.names)]
        else:
            continue
        for target in targets:
            if target in MODULES and target != name:
                yield target, node.lineno


GRAPH = {name: {target for target, _ in imported(name, path)} for name, path in MODULES.items()}


def layer(name: str) -> int:
    first = name.split(".")[1] if "." in name else ""
    return next(index for index, names in enumerate(LAYERS) if first in names)


def test_every_module_has_a_layer():
    unplaced = [name for name in MODULES if not any(
        (name.split(".")[1] if "." in name else "") in names for names in LAYERS)]
    assert unplaced == []


def test_no_import_circle():
    circles = []
    state: dict[str, str] = {}  # "open" while on the current path, "done" once every path from it is known

    def visit(name: str, path: list[str]) -> None:
        state[name] = "open"
        for target in sorted(GRAPH[name]):
            if state.get(target) == "open":
                circles.append([*path[path.index(target):], target])
            elif target not in state:
                visit(target, [*path, target])
        state[name] = "done"

    for name in sorted(GRAPH):
        if name not in state:
            visit(name, [name])
    assert circles == []


def test_no_two_modules_share_a_file_name():
    by_file: dict[str, list[str]] = {}
    for name, path in MODULES.items():
        if path.name not in ("__init__.py", "__main__.py"):
            by_file.setdefault(path.name, []).append(name)
    assert {file: names for file, names in by_file.items() if len(names) > 1} == {}


@pytest.mark.parametrize("name", sorted(name for name, path in MODULES.items() if path.name == "__init__.py"))
def test_package_files_hold_only_a_docstring(name):
    body = ast.parse(MODULES[name].read_text(encoding="utf-8")).body
    assert body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
        and isinstance(body[0].value.value, str), f"{name} has no docstring"
    if name not in CODE_IN_PACKAGE_FILE:
        assert len(body) == 1, f"{name}/__init__.py holds code: no re-exports, the code goes in a module"


def test_each_module_imports_only_its_own_layer_or_lower():
    upward = {(name, target) for name, path in MODULES.items() for target, _ in imported(name, path)
              if layer(target) > layer(name)}
    assert sorted(upward) == []


def test_the_public_names_agree_with_their_homes_and_the_imports_editors_read():
    tree = ast.parse(MODULES["scaling_search"].read_text(encoding="utf-8"))
    values = {node.targets[0].id: node.value for node in tree.body
              if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name)}
    homes = ast.literal_eval(values["_HOMES"])
    listed = ast.literal_eval(values["__all__"])
    checked = [node for node in tree.body if isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING"]
    assert len(checked) == 1
    type_checked = {alias.name: node.module for node in checked[0].body if isinstance(node, ast.ImportFrom)
                    for alias in node.names}
    assert sorted(listed) == sorted(["__version__", *homes])
    assert type_checked == homes
