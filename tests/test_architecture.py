"""The import rules ARCHITECTURE.md states, read from the code (every ``import`` statement,
lazy ones inside functions and ``TYPE_CHECKING`` blocks included), and ARCHITECTURE.md
stating each of them word for word."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "codeteam"
ARCHITECTURE = ROOT / "ARCHITECTURE.md"


@dataclass(frozen=True)
class Rule:
    says: str  # the sentence ARCHITECTURE.md carries
    within: tuple[str, ...]  # the modules it binds (a package means everything in it)
    forbidden: tuple[str, ...]  # what they must not import
    allowed: tuple[str, ...] = ()  # exceptions inside ``forbidden``
    pending: str | None = None  # why it does not hold yet (strict xfail)


RULES = (
    Rule(
        "Nothing under protocol/, tools/, toolchains/, sandbox/, executor/ or cluster/ imports "
        "team, llm or store.",
        ("protocol", "tools", "toolchains", "sandbox", "executor", "cluster"),
        ("team", "llm", "store"),
    ),
    Rule(
        "sandbox/ imports no toolchain, tool or executor.",
        ("sandbox",),
        ("toolchains", "tools", "executor"),
    ),
    Rule(
        "tools/ imports nothing from protocol/.",
        ("tools",),
        ("protocol",),
    ),
    Rule(
        "toolchains/ and tools/ import nothing of sandbox/ but the value types of "
        "sandbox/spec.py.",
        ("toolchains", "tools"),
        ("sandbox",),
        allowed=("sandbox.spec",),
    ),
    Rule(
        "protocol/ knows tools only through the tool interface, tools/base.py.",
        ("protocol",),
        ("tools", "toolchains", "sandbox", "executor"),
        allowed=("tools.base",),
    ),
    Rule(
        "team/ reaches the code tools over MCP: of tools/ it imports only the tool interface "
        "(tools/base.py, tools/paths.py), never toolchains/, sandbox/ or executor/.",
        ("team",),
        ("tools", "toolchains", "sandbox", "executor", "protocol"),
        allowed=("tools.base", "tools.paths"),
    ),
    Rule(
        "llm/ and store/ import no other layer but config.",
        ("llm", "store"),
        ("team", "tools", "toolchains", "sandbox", "executor", "protocol"),
    ),
    Rule(
        "eval/ reaches the code tools over MCP, as team/ does: never tools/, toolchains/, "
        "sandbox/ or cluster/.",
        ("eval",),
        ("tools", "toolchains", "sandbox", "cluster"),
    ),
    Rule(
        "ui/ reads the records: it imports nothing of tools/, toolchains/, sandbox/, "
        "executor/ or cluster/.",
        ("ui",),
        ("tools", "toolchains", "sandbox", "executor", "cluster"),
    ),
    Rule(
        "Nothing under protocol/, tools/, toolchains/, sandbox/, executor/, cluster/, llm/ or "
        "store/ imports eval or ui.",
        ("protocol", "tools", "toolchains", "sandbox", "executor", "cluster", "llm", "store"),
        ("eval", "ui"),
    ),
    Rule(
        "Only the composition root (cli.py, server.py, assembly/) imports cli, server or "
        "assembly.",
        ("protocol", "tools", "toolchains", "sandbox", "executor", "team", "llm", "store"),
        ("cli", "server", "assembly"),
    ),
)


def module_name(path: Path, package: Path) -> str:
    """``src/codeteam/tools/base.py`` -> ``tools.base`` (``__init__`` -> its package)."""
    parts = list(path.relative_to(package).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports(path: Path, package: Path) -> Iterator[tuple[int, str]]:
    """``(line, module)`` for every import of ``codeteam`` in a file, anywhere in it; a
    name imported from a package counts as its submodule when there is one."""
    me = module_name(path, package)
    here = me if path.name == "__init__.py" else me.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("codeteam."):
                    yield node.lineno, alias.name.removeprefix("codeteam.")
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = ".".join(here.split(".")[: len(here.split(".")) - node.level + 1])
                module = ".".join(p for p in (base, node.module or "") if p)
            elif node.module and node.module.startswith("codeteam."):
                module = node.module.removeprefix("codeteam.")
            elif node.module == "codeteam":
                module = ""
            else:
                continue
            for alias in node.names:
                sub = f"{module}.{alias.name}" if module else alias.name
                is_module = (package / sub.replace(".", "/")).with_suffix(".py").exists() or (
                    package / sub.replace(".", "/") / "__init__.py"
                ).exists()
                yield node.lineno, sub if is_module else module


def _under(module: str, prefixes: tuple[str, ...]) -> bool:
    return any(module == p or module.startswith(p + ".") for p in prefixes)


def violations(rule: Rule, package: Path) -> list[str]:
    found = []
    for path in sorted(package.rglob("*.py")):
        me = module_name(path, package)
        if not _under(me, rule.within):
            continue
        for line, target in imports(path, package):
            if _under(target, rule.forbidden) and not _under(target, rule.allowed):
                found.append(f"{path.relative_to(package)}:{line} imports codeteam.{target}")
    return found


def _param(rule: Rule) -> object:
    marks = [pytest.mark.xfail(strict=True, reason=rule.pending)] if rule.pending else []
    return pytest.param(rule, marks=marks, id=rule.says[:60])


@pytest.mark.parametrize("rule", [_param(r) for r in RULES])
def test_import_rule_holds(rule: Rule) -> None:
    assert violations(rule, PACKAGE) == []


@pytest.mark.parametrize("rule", RULES, ids=[r.says[:60] for r in RULES])
def test_architecture_md_states_the_rule(rule: Rule) -> None:
    text = " ".join(ARCHITECTURE.read_text(encoding="utf-8").split())
    assert rule.says in text


def test_a_lazy_import_inside_a_function_is_caught(tmp_path: Path) -> None:
    package = tmp_path / "codeteam"
    (package / "tools").mkdir(parents=True)
    (package / "team").mkdir()
    (package / "tools" / "__init__.py").write_text("")
    (package / "team" / "__init__.py").write_text("")
    (package / "team" / "runner.py").write_text("")
    (package / "tools" / "ok.py").write_text("from codeteam.tools import ok\n")
    (package / "tools" / "sneaky.py").write_text(
        "def f():\n    from ..team import runner\n    import codeteam.llm\n"
    )
    assert violations(RULES[0], package) == [
        "tools/sneaky.py:2 imports codeteam.team.runner",
        "tools/sneaky.py:3 imports codeteam.llm",
    ]


def test_the_reader_sees_the_real_imports() -> None:
    found = {target for _, target in imports(PACKAGE / "team" / "tools.py", PACKAGE)}
    assert {"tools.base", "tools.paths", "llm", "store"} <= found
