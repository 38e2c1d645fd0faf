"""Dependencies run one way (docs/architecture.md, "Layers"): config's support modules, then
accounts, campaigns, the petitions' models, their services (with mail and documents), the
Celery tasks and commands, and the web layer on top. Read from the source, imports inside
functions included, so that no lower module reaches a higher one by any route."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
APPS = ("config", "accounts", "campaigns", "petitions")

# (layer, module prefixes), bottom first. The longest matching prefix places a module.
LAYERS = [
    ("support", ["config"]),
    ("accounts", ["accounts"]),
    ("campaigns", ["campaigns"]),
    ("models", ["petitions", "petitions.models"]),
    (
        "services",
        ["petitions.services", "petitions.mail", "petitions.documents", "petitions.tokens"],
    ),
    ("tasks", ["petitions.tasks", "petitions.apps", "petitions.management"]),
    (
        "web",
        [
            "petitions.web",
            "petitions.admin",
            "petitions.urls",
            "config.admin",
            "config.urls",
            "config.wsgi",
            "config.asgi",
        ],
    ),
]
RANK = {prefix: rank for rank, (_, prefixes) in enumerate(LAYERS) for prefix in prefixes}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def project_modules() -> dict[str, Path]:
    found = {}
    for app in APPS:
        for path in (ROOT / app).rglob("*.py"):
            if "migrations" not in path.parts:
                found[module_name(path)] = path
    return found


MODULES = project_modules()


def rank(module: str) -> int:
    parts = module.split(".")
    for end in range(len(parts), 0, -1):
        prefix = ".".join(parts[:end])
        if prefix in RANK:
            return RANK[prefix]
    raise AssertionError(f"{module} is in no layer")


def imports(module: str, path: Path) -> set[str]:
    """The project's modules that `module` imports anywhere in its source."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    named = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            named |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            for alias in node.names:
                # `from package import module` names a module; `from module import name` its module.
                submodule = f"{base}.{alias.name}"
                named.add(submodule if submodule in MODULES else base)
    return {name for name in named if name in MODULES}


GRAPH = {module: imports(module, path) for module, path in MODULES.items()}


def test_every_module_is_in_a_layer():
    for module in MODULES:
        rank(module)


@pytest.mark.parametrize("module", sorted(MODULES))
def test_no_module_imports_one_above_it(module):
    above = {
        imported: LAYERS[rank(imported)][0]
        for imported in GRAPH[module]
        if rank(imported) > rank(module)
    }
    assert not above, f"{module} ({LAYERS[rank(module)][0]}) imports from above: {above}"


def test_the_imports_have_no_cycles():
    """Within a layer too, modules depend one way: a cycle means one of them belongs lower."""
    done: set[str] = set()
    path: list[str] = []

    def visit(module: str) -> None:
        if module in path:
            cycle = path[path.index(module) :] + [module]
            raise AssertionError(" -> ".join(cycle))
        if module in done:
            return
        path.append(module)
        for imported in sorted(GRAPH[module]):
            if imported != module and not module.startswith(imported + "."):
                visit(imported)
        path.pop()
        done.add(module)

    for module in sorted(GRAPH):
        visit(module)


def test_nothing_is_looked_up_by_its_name():
    """Code is found through imports, where a reader (and this test) can follow it."""
    for module, path in MODULES.items():
        source = path.read_text()
        for needle in ("import_module(", "send_task(", "getattr(tasks", "apps.get_model("):
            assert needle not in source, f"{module} looks up code by name: {needle}"


def test_a_lower_layer_is_found_from_the_checked_graph():
    """The test reads real imports: the web layer imports the models."""
    assert "petitions.models" in GRAPH["petitions.web.pages"]
