"""The package's layout rules (issue 11): rooms with one door, loading independent of metrics,
no private names shared between modules, no import cycles, no module over ~600 lines.

The checks read the source (``ast``) or import in a fresh interpreter, so they hold for the code
as it is on disk, whatever an earlier test imported.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "bltanalytics"
LOAD = PACKAGE / "load"

#: the metrics layer and everything downstream of it: loading imports none of these
DOWNSTREAM = {
    "achievement",
    "suppression",
    "rubric",
    "trends",
    "cycles",
    "learning",
    "metrics",
    "report",
    "charts",
    "dashboards",
    "sample",
}

#: every module of the package is held to :data:`MAX_LINES`
LINE_LIMITED_ROOMS = [PACKAGE]
MAX_LINES = 600

#: private names imported across modules outside the load room today, (importer, imported name);
#: they belong to the metrics room's regrouping, which removes them (then empty this set). A new
#: private cross-import anywhere fails.
KNOWN_PRIVATE_IMPORTS: set[tuple[str, str]] = set()

#: the flat module names the load room replaced
OLD_LOAD_MODULES = {
    f"bltanalytics.{m}"
    for m in (
        "cleaning",
        "contract",
        "district",
        "mapping",
        "readers",
        "schemas",
        "validate",
        "vocabulary",
    )
}


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def package_modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def is_module(name: str) -> bool:
    """True when ``name`` is a module or package of this checkout."""
    relative = Path(*name.split("."))
    return (ROOT / relative).with_suffix(".py").is_file() or (
        ROOT / relative / "__init__.py"
    ).is_file()


def absolute(node: ast.ImportFrom, importer: str, is_package: bool) -> str:
    """The absolute module an ``ImportFrom`` names (relative imports resolved)."""
    if not node.level:
        return node.module or ""
    base = importer.split(".")
    base = base if is_package else base[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join([*base, *([node.module] if node.module else [])])


def private(name: str) -> bool:
    return name.startswith("_") and not name.endswith("__")


def imports_of(tree: ast.AST, importer: str, is_package: bool, top_level_only: bool = False):
    """``(module, name)`` for every ``from module import name`` and ``(module, None)`` for every
    ``import module`` in ``tree``; with ``top_level_only``, imports inside functions are skipped
    (those run late and cannot form an import-time cycle)."""
    nodes = tree.body if top_level_only else ast.walk(tree)
    for node in nodes:
        if isinstance(node, ast.ImportFrom):
            module = absolute(node, importer, is_package)
            for alias in node.names:
                yield module, alias.name, alias.asname
        elif isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, None, alias.asname


def private_cross_imports() -> set[tuple[str, str]]:
    """``(importer, module.name)`` for every private name one package module takes from another:
    ``from bltanalytics.x import _name``, or ``x._name`` on a module bound by an import."""
    found = set()
    for importer, path in package_modules().items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        is_package = path.name == "__init__.py"
        module_aliases: dict[str, str] = {}
        for module, name, asname in imports_of(tree, importer, is_package):
            if not module.startswith("bltanalytics"):
                continue
            if name is None:  # import bltanalytics.x [as y]
                if asname:
                    module_aliases[asname] = module
                continue
            if is_module(f"{module}.{name}"):  # from bltanalytics import x: a module
                module_aliases[asname or name] = f"{module}.{name}"
            elif private(name) and module != importer:
                found.add((importer, f"{module}.{name}"))
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Attribute)
                and private(node.attr)
                and isinstance(node.value, ast.Name)
                and node.value.id in module_aliases
                and module_aliases[node.value.id] != importer
            ):
                found.add((importer, f"{module_aliases[node.value.id]}.{node.attr}"))
    return found


def test_loading_imports_no_metrics_module():
    code = (
        "import json, sys; import bltanalytics.load; "
        "print(json.dumps(sorted(m for m in sys.modules if m.startswith('bltanalytics'))))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    )
    loaded = json.loads(out.stdout)
    assert "bltanalytics.load.district" in loaded  # the door opened onto the room
    downstream = [m for m in loaded if DOWNSTREAM & set(m.split(".")[1:])]
    assert downstream == []


def test_no_module_imports_another_modules_private_names():
    found = private_cross_imports()
    assert found - KNOWN_PRIVATE_IMPORTS == set()
    assert [f for f in found if f[0].startswith("bltanalytics.load")] == []


def test_private_import_scan_finds_both_forms(tmp_path, monkeypatch):
    """The scan would see a private name taken by ``from`` import or through a module alias."""
    fake = tmp_path / "bltanalytics"
    (fake / "load").mkdir(parents=True)
    (fake / "__init__.py").write_text("")
    (fake / "load" / "__init__.py").write_text("")
    (fake / "load" / "a.py").write_text("def _helper():\n    pass\n")
    (fake / "b.py").write_text("from bltanalytics.load.a import _helper\n")
    (fake / "c.py").write_text("from bltanalytics.load import a\n\na._helper()\n")
    (fake / "d.py").write_text("from .load.a import _helper\n")
    monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path)
    monkeypatch.setattr(sys.modules[__name__], "PACKAGE", fake)
    assert private_cross_imports() == {
        ("bltanalytics.b", "bltanalytics.load.a._helper"),
        ("bltanalytics.c", "bltanalytics.load.a._helper"),
        ("bltanalytics.d", "bltanalytics.load.a._helper"),
    }


@pytest.mark.parametrize(
    "path",
    [p for room in LINE_LIMITED_ROOMS for p in sorted(room.rglob("*.py"))],
    ids=lambda p: str(p.relative_to(ROOT)),
)
def test_no_module_is_over_the_line_limit(path):
    lines = len(path.read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_LINES, f"{path.relative_to(ROOT)} has {lines} lines"


def test_the_load_room_has_no_import_cycle():
    modules = {m: p for m, p in package_modules().items() if m.startswith("bltanalytics.load")}
    graph = {}
    for importer, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        targets = set()
        for module, name, _ in imports_of(tree, importer, path.name == "__init__.py", True):
            for candidate in (f"{module}.{name}" if name else None, module):
                if candidate in modules and candidate != importer:
                    targets.add(candidate)
                    break
        graph[importer] = targets
    # the door imports every module; no module imports the door (or, through it, itself)
    assert [m for m, targets in graph.items() if "bltanalytics.load" in targets] == []
    done: set[str] = set()

    def visit(module: str, path: tuple[str, ...]) -> None:
        assert module not in path, " -> ".join([*path, module])
        if module in done:
            return
        for target in graph[module]:
            visit(target, (*path, module))
        done.add(module)

    for module in graph:
        visit(module, ())


def code_files_outside_the_room():
    """Every package module outside the load room, benchmark and notebook (paired or not)."""
    files = [p for p in PACKAGE.rglob("*.py") if LOAD not in p.parents]
    files += sorted((ROOT / "benchmarks").rglob("*.py"))
    files += sorted((ROOT / "notebooks").rglob("*.py"))
    for path in files:
        yield path, path.read_text(encoding="utf-8")
    for path in sorted((ROOT / "notebooks").rglob("*.ipynb")):
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
        source = "\n".join(
            "".join(c["source"]) for c in cells if c["cell_type"] == "code"
        ).splitlines()
        yield path, "\n".join(line for line in source if not line.lstrip().startswith(("%", "!")))


def test_outside_the_room_loading_is_imported_through_its_door():
    wrong = []
    for path, text in code_files_outside_the_room():
        importer = module_name(path) if PACKAGE in path.parents else path.stem
        for module, name, _ in imports_of(ast.parse(text), importer, path.name == "__init__.py"):
            named = f"{module}.{name}" if name else module
            inner = module.startswith("bltanalytics.load.") or (
                module == "bltanalytics.load" and name and is_module(named)
            )
            if inner or module in OLD_LOAD_MODULES or named in OLD_LOAD_MODULES:
                wrong.append(f"{path.relative_to(ROOT)}: {named}")
    assert wrong == []


def test_loading_knows_the_rubrics_rated_indicators():
    """Loading reads the rated ids from rubric.yaml itself; they are the rubric's rated ones."""
    from bltanalytics.load import rated_indicator_ids
    from bltanalytics.metrics.rubric import load_rubric

    rated = tuple(i.id for i in load_rubric().indicators if i.kind == "rated")
    assert rated and rated_indicator_ids() == rated
