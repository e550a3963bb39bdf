"""Plausible wrong answers: a correct solution with one off-by-one slip.

Each variant changes exactly one spot of the function the problem asks for, the kind of
slip a careless solver makes: a comparison that includes or excludes its bound (``<`` /
``<=``, ``>`` / ``>=``), a constant one too large, a length one too long, a result that
drops its first element or is one too large or negated. A scorer that passes one is too
lenient. :func:`variants` lists them in a stable order; a dataset records which one its
hidden tests catch (see ``codeteam.eval.humaneval``).
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterator

_FLIP: dict[type[ast.cmpop], type[ast.cmpop]] = {
    ast.Lt: ast.LtE,
    ast.LtE: ast.Lt,
    ast.Gt: ast.GtE,
    ast.GtE: ast.Gt,
}

#: One slip at one spot: changes the tree in place.
Slip = Callable[[], None]


def _flip(node: ast.Compare, i: int) -> Slip:
    def apply() -> None:
        node.ops[i] = _FLIP[type(node.ops[i])]()

    return apply


def _bump(node: ast.Constant) -> Slip:
    value = node.value
    assert isinstance(value, int | float)

    def apply() -> None:
        node.value = value + 1

    return apply


def _plus_one(parent: ast.AST, field: str, node: ast.expr) -> Slip:
    def apply() -> None:
        setattr(parent, field, ast.BinOp(node, ast.Add(), ast.Constant(1)))

    return apply


def _rest(ret: ast.Return, value: ast.expr) -> Slip:
    def apply() -> None:
        ret.value = ast.Subscript(value, ast.Slice(lower=ast.Constant(1)), ast.Load())

    return apply


def _negate(ret: ast.Return, value: ast.expr) -> Slip:
    def apply() -> None:
        ret.value = ast.UnaryOp(ast.Not(), value)

    return apply


def _number(node: ast.AST, kind: type) -> bool:
    return isinstance(node, ast.Constant) and type(node.value) is kind


def _truth(v: ast.expr) -> bool:
    """Whether ``v`` is plainly a truth value (a result to negate, not to shift)."""
    return (
        _number(v, bool)
        or isinstance(v, ast.Compare | ast.BoolOp)
        or (isinstance(v, ast.UnaryOp) and isinstance(v.op, ast.Not))
    )


def _slips(fn: ast.FunctionDef) -> list[Slip]:
    """Every slip possible inside ``fn``, most plausible kind first, in source order."""
    nodes = sorted(
        (n for n in ast.walk(fn) if hasattr(n, "lineno")),
        key=lambda n: (n.lineno, getattr(n, "col_offset", 0)),
    )
    kinds: list[list[Slip]] = [[] for _ in range(6)]
    for node in nodes:
        if isinstance(node, ast.Compare):
            kinds[0].extend(_flip(node, i) for i, op in enumerate(node.ops) if type(op) in _FLIP)
        elif _number(node, int):
            kinds[1].append(_bump(node))  # type: ignore[arg-type]
        elif _number(node, float):
            kinds[2].append(_bump(node))  # type: ignore[arg-type]
        elif (
            isinstance(node, ast.Return)
            and node.value is not None
            and not _number(node.value, type(None))
        ):
            v = node.value
            if isinstance(v, ast.Call) and isinstance(v.func, ast.Name) and v.func.id == "len":
                kinds[3].append(_plus_one(node, "value", v))
            if _truth(v):
                kinds[4].append(_negate(node, v))
            else:
                kinds[4].append(_rest(node, v))
                kinds[4].append(_plus_one(node, "value", v))
                kinds[5].append(_negate(node, v))
    return [s for kind in kinds for s in kind]


def _function(tree: ast.Module, name: str) -> ast.FunctionDef:
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name == name:
            return node
    raise ValueError(f"no top-level function {name!r}")


def variants(source: str, entry_point: str) -> Iterator[str]:
    """``source`` with one slip in its top-level function ``entry_point``, each way there
    is, in a stable order."""
    count = len(_slips(_function(ast.parse(source), entry_point)))
    for k in range(count):
        tree = ast.parse(source)
        _slips(_function(tree, entry_point))[k]()
        yield ast.unparse(ast.fix_missing_locations(tree)) + "\n"


def variant(source: str, entry_point: str, index: int) -> str:
    """The ``index``-th of :func:`variants`."""
    for k, text in enumerate(variants(source, entry_point)):
        if k == index:
            return text
    raise IndexError(f"{entry_point} has no slip number {index}")
