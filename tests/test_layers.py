"""The shape of lib/ (issue 10): the dependency table in docs/ARCHITECTURE.md is the truth, imports sit at
the top of each file, no cycles, no environment read at import, modules a reader can finish in one sitting."""
from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LIB = ROOT / "lib"
MODULES = sorted(p.stem for p in LIB.glob("*.py") if p.stem != "__init__")
# heavy third-party packages may be imported inside the function that needs them (an import costs seconds)
LONG_MODULES = {"kakao", "privacy"}  # pattern tables
MAX_LINES = 450


def _tree(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def lib_imports(path: Path) -> dict[str, list[int]]:
    """lib modules `path` imports -> line numbers (every import statement, wherever it is)."""
    found: dict[str, list[int]] = {}
    for node in ast.walk(_tree(path)):
        names = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names = [f"{node.module}.{a.name}" for a in node.names] if node.module == "lib" else [node.module]
        for name in names:
            if name.startswith("lib."):
                found.setdefault(name.split(".")[1], []).append(node.lineno)
    return found


def documented() -> dict[str, set[str]]:
    """docs/ARCHITECTURE.md's ```layers block: `module: allowed imports`, one module per line."""
    text = (ROOT / "docs" / "ARCHITECTURE.md").read_text(encoding="utf-8")
    block = re.search(r"```layers\n(.*?)```", text, re.S)
    assert block, "docs/ARCHITECTURE.md needs a ```layers block (module: the lib modules it may import)"
    table = {}
    for line in block.group(1).splitlines():
        if line.strip():
            name, _, allowed = line.partition(":")
            table[name.strip()] = set(allowed.split()) - {"-"}
    return table


GRAPH = {m: set(lib_imports(LIB / f"{m}.py")) for m in MODULES}


def test_every_import_is_in_the_documented_picture():
    table = documented()
    assert sorted(table) == MODULES, "ARCHITECTURE.md's layers block must list exactly the modules in lib/"
    extra = {m: sorted(GRAPH[m] - table[m]) for m in MODULES if GRAPH[m] - table[m]}
    assert not extra, f"imports not in docs/ARCHITECTURE.md: {extra}"


def test_no_cycles():
    seen, stack = set(), []

    def visit(m):
        if m in stack:
            raise AssertionError("import cycle: " + " -> ".join(stack[stack.index(m):] + [m]))
        if m in seen:
            return
        stack.append(m)
        for dep in GRAPH.get(m, ()):
            visit(dep)
        stack.pop()
        seen.add(m)

    for m in MODULES:
        visit(m)


def test_the_rules_of_issue_10():
    base = {"config", "fileio"}
    for leaf in ("kakao", "style", "template", "config", "fileio"):
        assert GRAPH[leaf] <= base, (leaf, GRAPH[leaf])
    assert GRAPH["privacy"] <= base | {"kakao"}          # its name-review CLI reads exports
    assert GRAPH["models"] <= base | {"runs", "template"}, GRAPH["models"]   # nothing above it
    assert not GRAPH["chat"] & {"train", "dataset", "pairs", "evaluate"}
    assert "explore" not in GRAPH["dataset"]


def test_lib_modules_are_imported_at_the_top_of_each_file():
    late = []
    for m in MODULES:
        tree = _tree(LIB / f"{m}.py")
        top = {id(n) for n in tree.body}
        for node in ast.walk(tree):
            if isinstance(node, (ast.Import, ast.ImportFrom)) and id(node) not in top:
                mods = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
                if any(x == "lib" or x.startswith("lib.") for x in mods):
                    late.append(f"lib/{m}.py:{node.lineno}")
    assert not late, f"function-local imports of lib modules (move them to the top): {late}"


def test_nothing_in_lib_imports_streamlit_or_the_app():
    for m in MODULES:
        for node in ast.walk(_tree(LIB / f"{m}.py")):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            else:
                continue
            assert not any(n.split(".")[0] in ("streamlit", "app", "common") for n in names), (m, names)


def _module_level(tree: ast.Module):
    """Nodes executed at import: everything outside function bodies (class bodies run at import too)."""
    todo = list(tree.body)
    while todo:
        node = todo.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            continue
        yield node
        todo.extend(ast.iter_child_nodes(node))


def test_no_environment_read_at_import():
    reads = []
    for m in MODULES:
        for node in _module_level(_tree(LIB / f"{m}.py")):
            if isinstance(node, ast.Attribute) and node.attr in ("environ", "getenv") and \
                    isinstance(node.value, ast.Name) and node.value.id == "os":
                reads.append(f"lib/{m}.py:{node.lineno}")
    assert not reads, f"os.environ read at import (resolve it at call time): {reads}"


def test_modules_you_can_read_in_one_sitting():
    long = {m: n for m in MODULES if m not in LONG_MODULES
            and (n := len((LIB / f"{m}.py").read_text(encoding="utf-8").splitlines())) > MAX_LINES}
    assert not long, f"modules over {MAX_LINES} lines (split by concern): {long}"


@pytest.mark.parametrize("module", ["lib.chat", "lib.backends", "lib.blind", "lib.tokenizer"])
def test_the_chat_page_path_imports_neither_pandas_nor_torch(module):
    """What the cloud page imports stays light: no pandas (dataset code) and no torch (llama.cpp path)."""
    code = f"import sys, {module}; print(sorted(m for m in ('pandas', 'torch', 'transformers') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert out.stdout.strip() == "[]", (module, out.stdout, out.stderr[-500:])
