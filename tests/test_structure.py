"""The package's shape: modules share public names only, and the import graph has no cycle."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "al_widget"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def _is_private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def _imported_from(module: str, node: ast.ImportFrom) -> str:
    """The absolute name of the module `node` imports from, inside `module`."""
    if node.level == 0:
        return node.module or ""
    base = module.split(".")
    if MODULES[module].name != "__init__.py":
        base = base[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def _type_only(tree: ast.AST) -> set[ast.AST]:
    """The imports under ``if TYPE_CHECKING:``: read by type checkers, never run."""
    found: set[ast.AST] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and ast.unparse(node.test) in {
            "TYPE_CHECKING",
            "typing.TYPE_CHECKING",
        }:
            found.update(n for stmt in node.body for n in ast.walk(stmt))
    return found


def _imports(module: str, run_only: bool = False) -> list[tuple[ast.stmt, str, str | None, str]]:
    """Every import in `module`, at any depth: (node, module imported from, name, bound as).

    With `run_only`, without those under ``if TYPE_CHECKING:``.
    """
    found: list[tuple[ast.stmt, str, str | None, str]] = []
    tree = ast.parse(MODULES[module].read_text(encoding="utf-8"))
    skipped = _type_only(tree) if run_only else set()
    for node in ast.walk(tree):
        if node in skipped:
            continue
        if isinstance(node, ast.Import):
            for alias in node.names:
                found.append((node, alias.name, None, alias.asname or alias.name.split(".")[0]))
        elif isinstance(node, ast.ImportFrom):
            source = _imported_from(module, node)
            for alias in node.names:
                found.append((node, source, alias.name, alias.asname or alias.name))
    return found


def _defined_in(tree: ast.AST) -> set[str]:
    """Names a module defines or binds itself: its functions, classes, variables, attributes."""
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        elif isinstance(node, ast.Attribute) and isinstance(node.ctx, (ast.Store, ast.Del)):
            names.add(node.attr)
        elif isinstance(node, ast.arg):
            names.add(node.arg)
    return names


def _private_uses(module: str) -> list[str]:
    """Where `module` uses a private name of another al_widget module."""
    tree = ast.parse(MODULES[module].read_text(encoding="utf-8"))
    uses = []
    foreign: set[str] = set()  # names bound to modules outside al_widget (torch, numpy, ...)
    for node, source, name, bound in _imports(module):
        inside = source.split(".")[0] == "al_widget"
        if not inside:
            foreign.add(bound)
        elif name is not None and _is_private(name) and f"{source}.{name}" not in MODULES:
            uses.append(f"{module}:{node.lineno} imports {name} from {source}")
    own = _defined_in(tree)
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and _is_private(node.attr) and node.attr not in own:
            root = node.value
            while isinstance(root, ast.Attribute):
                root = root.value
            if not (isinstance(root, ast.Name) and root.id in foreign):
                uses.append(f"{module}:{node.lineno} reads {ast.unparse(node)}")
    return uses


def _import_graph() -> dict[str, set[str]]:
    """Module -> the al_widget modules it imports when run, at module level or in functions."""
    graph: dict[str, set[str]] = {}
    for module in MODULES:
        edges = set()
        for _node, source, name, _bound in _imports(module, run_only=True):
            target = f"{source}.{name}" if f"{source}.{name}" in MODULES else source
            if target in MODULES and target != module:
                edges.add(target)
        graph[module] = edges
    return graph


def _a_cycle(graph: dict[str, set[str]]) -> list[str]:
    """One cycle of `graph` as a list of modules, or [] if it has none."""
    state: dict[str, str] = {}
    path: list[str] = []

    def visit(module: str) -> list[str]:
        state[module] = "open"
        path.append(module)
        for target in sorted(graph[module]):
            if state.get(target) == "open":
                return [*path[path.index(target) :], target]
            if target not in state and (cycle := visit(target)):
                return cycle
        state[module] = "done"
        path.pop()
        return []

    for module in sorted(graph):
        if module not in state and (cycle := visit(module)):
            return cycle
    return []


def test_no_module_uses_another_modules_private_names():
    uses = [use for module in MODULES for use in _private_uses(module)]
    assert uses == []


def test_the_import_graph_of_the_package_has_no_cycle():
    cycle = _a_cycle(_import_graph())
    assert cycle == [], " -> ".join(cycle)


def test_the_cycle_finder_finds_a_cycle():
    # the graph test can fail: its finder sees a cycle of three and none in a chain
    assert _a_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _a_cycle({"a": {"b"}, "b": set()}) == []


def _type_names(module: str) -> set[str]:
    """The CamelCase names `module` defines at its top level: classes, type aliases, TypeVars."""
    tree = ast.parse(MODULES[module].read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names.update(t.id for t in targets if isinstance(t, ast.Name))
    return {n for n in names if n[:1].isupper() and not n.isupper() and "_" not in n}


def _defined_twice(modules: dict[str, set[str]]) -> dict[str, list[str]]:
    where: dict[str, list[str]] = {}
    for module, names in modules.items():
        for name in names:
            where.setdefault(name, []).append(module)
    return {name: sorted(found) for name, found in where.items() if len(found) > 1}


def test_a_class_or_type_name_is_defined_in_one_module_only():
    # one name, one thing: a second module reuses it by importing it, never by defining its own
    assert _defined_twice({module: _type_names(module) for module in MODULES}) == {}


def test_the_name_check_sees_a_name_defined_twice():
    found = _defined_twice({"a": {"Line", "Toy"}, "b": {"Line"}})
    assert found == {"Line": ["a", "b"]}
