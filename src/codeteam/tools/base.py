"""Tools as plain typed async functions; their JSON schemas come from their types.

A tool is ``async def name(ctx: ToolContext, *, arg: Annotated[T, Doc("...")], ...) -> R``
where ``R`` is a dataclass with a ``status`` field and a ``render()`` method. Nothing here
knows about MCP: the protocol layer reads :class:`ToolSpec`'s schemas (and maps them to MCP's
JSON, :func:`codeteam.protocol.catalog.tool_json`) and calls :meth:`ToolSpec.call`, which
validates arguments and turns every failure into a value.
"""

from __future__ import annotations

import dataclasses
import inspect
import types
import typing
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, Protocol, get_args, get_origin

from codeteam.config import Settings

if TYPE_CHECKING:
    from codeteam.tools.services import Services  # imports this module

#: The machine the current tool call's code last ran on, when its executor runs code on
#: other machines (``--executor ray`` sets it; the protocol layer reports it as the
#: result's ``_meta``). Unset (None): this machine.
ran_on: ContextVar[str | None] = ContextVar("codeteam_ran_on", default=None)


class ToolError(Exception):
    """Bad input, a path outside the roots, a missing toolchain: one line a user can act on.

    ``status`` becomes the result's structured ``status`` (``rejected`` for bad input,
    ``unavailable`` for a missing toolchain or sandbox).
    """

    def __init__(self, message: str, status: str = "rejected") -> None:
        super().__init__(message)
        self.message = message
        self.status = status


@dataclass(frozen=True)
class Doc:
    """Describes one parameter or field in the generated JSON schema."""

    text: str
    allow_nul: bool = False


class ToolContext(Protocol):
    """What a running tool may use of its caller: settings, progress, nothing of MCP."""

    @property
    def settings(self) -> Settings: ...

    @property
    def services(self) -> Services:
        """The server's long-lived parts (sandbox, toolchain registry)."""
        ...

    async def progress(
        self, progress: float, total: float | None = None, message: str | None = None
    ) -> None: ...


@dataclass(frozen=True)
class Annotations:
    title: str
    read_only: bool
    destructive: bool
    idempotent: bool
    open_world: bool = False


@dataclass(frozen=True)
class Outcome:
    """A finished call: the structured result, its text rendering and whether it is an error."""

    structured: dict[str, Any]
    text: str
    is_error: bool


ToolFn = Callable[..., Awaitable[Any]]


# ---------------------------------------------------------------------------- schema


def _unwrap(hint: Any) -> tuple[Any, Doc | None]:
    if get_origin(hint) is typing.Annotated:
        base, *extra = get_args(hint)
        doc = next((e for e in extra if isinstance(e, Doc)), None)
        return base, doc
    return hint, None


def _is_optional(hint: Any) -> tuple[bool, Any]:
    origin = get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in get_args(hint) if a is not type(None)]
        if len(args) == 1 and len(get_args(hint)) == 2:
            return True, args[0]
    return False, hint


def json_schema(hint: Any) -> dict[str, Any]:
    """JSON schema for the small set of types tools use. Unknown types are a programming error."""
    hint, doc = _unwrap(hint)
    optional, hint = _is_optional(hint)
    schema: dict[str, Any]
    origin = get_origin(hint)
    if hint is str:
        schema = {"type": "string"}
    elif hint is bool:
        schema = {"type": "boolean"}
    elif hint is int:
        schema = {"type": "integer"}
    elif hint is float:
        schema = {"type": "number"}
    elif origin is Literal:
        values = list(get_args(hint))
        schema = {"type": "string", "enum": values}
    elif origin is list:
        (item,) = get_args(hint)
        schema = {"type": "array", "items": json_schema(item)}
    elif origin is dict:
        _, value = get_args(hint)
        schema = {"type": "object", "additionalProperties": json_schema(value)}
    elif dataclasses.is_dataclass(hint) and isinstance(hint, type):
        schema = dataclass_schema(hint)
    else:  # pragma: no cover - caught by the schema test of every tool
        raise TypeError(f"no JSON schema for {hint!r}")
    if optional:
        schema = {**schema, "type": [schema["type"], "null"]} if "type" in schema else schema
    if doc is not None:
        schema = {**schema, "description": doc.text}
    return schema


def dataclass_schema(cls: type) -> dict[str, Any]:
    hints = typing.get_type_hints(cls, include_extras=True)
    props: dict[str, Any] = {}
    required: list[str] = []
    for f in dataclasses.fields(cls):
        props[f.name] = json_schema(hints[f.name])
        if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
            required.append(f.name)
    return {"type": "object", "properties": props, "required": required}


def output_schema(cls: type) -> dict[str, Any]:
    """The tool's ``outputSchema``.

    Only ``status`` is required: error results (``rejected``/``unavailable``) carry
    ``status`` and ``error`` alone, and must still validate, because clients such as
    Claude Code hand the model ``structuredContent`` rather than the text.
    """
    schema = dataclass_schema(cls)
    schema["properties"]["error"] = {
        "type": "string",
        "description": "Set when status is rejected or unavailable: what was wrong and what to do.",
    }
    status = dict(schema["properties"]["status"])
    if "enum" in status:
        status["enum"] = [*status["enum"], "rejected", "unavailable"]
    schema["properties"]["status"] = status
    schema["required"] = ["status"]
    return schema


# ---------------------------------------------------------------------------- validation


@dataclass(frozen=True)
class _Param:
    name: str
    hint: Any
    required: bool
    allow_nul: bool


def _check_string(name: str, value: str, allow_nul: bool) -> None:
    if not allow_nul and "\x00" in value:
        raise ToolError(f"argument '{name}' contains a NUL byte (\\u0000); remove it")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ToolError(
            f"argument '{name}' contains a lone UTF-16 surrogate; send valid Unicode text"
        ) from None


def _check_value(name: str, hint: Any, value: Any, allow_nul: bool) -> Any:
    hint, _ = _unwrap(hint)
    optional, hint = _is_optional(hint)
    if value is None:
        if optional:
            return None
        raise ToolError(f"argument '{name}' must not be null")
    origin = get_origin(hint)
    if hint is str:
        if not isinstance(value, str):
            raise ToolError(f"argument '{name}' must be a string, got {type(value).__name__}")
        _check_string(name, value, allow_nul)
        return value
    if hint is bool:
        if not isinstance(value, bool):
            raise ToolError(f"argument '{name}' must be true or false")
        return value
    if hint is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ToolError(f"argument '{name}' must be an integer")
        return value
    if hint is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ToolError(f"argument '{name}' must be a number")
        if value != value or value in (float("inf"), float("-inf")):
            raise ToolError(f"argument '{name}' must be a finite number")
        return float(value)
    if origin is Literal:
        allowed = get_args(hint)
        if not isinstance(value, str):
            raise ToolError(f"argument '{name}' must be a string, one of {', '.join(allowed)}")
        _check_string(name, value, False)
        if value not in allowed:
            raise ToolError(
                f"argument '{name}' is {value!r}; expected one of: {', '.join(allowed)}"
            )
        return value
    if origin is list:
        (item,) = get_args(hint)
        if not isinstance(value, list):
            raise ToolError(f"argument '{name}' must be an array")
        return [_check_value(f"{name}[{i}]", item, v, allow_nul) for i, v in enumerate(value)]
    raise TypeError(f"unsupported parameter type {hint!r}")  # pragma: no cover


# ---------------------------------------------------------------------------- spec


@dataclass
class ToolSpec:
    name: str
    description: str
    fn: ToolFn
    annotations: Annotations
    result_type: type
    params: list[_Param]
    input_schema: dict[str, Any]
    output_schema: dict[str, Any]
    _last: tuple[Any, Outcome] | None = field(default=None, repr=False, compare=False)

    @classmethod
    def from_function(cls, fn: ToolFn, *, description: str, annotations: Annotations) -> ToolSpec:
        hints = typing.get_type_hints(fn, include_extras=True)
        sig = inspect.signature(fn)
        params: list[_Param] = []
        props: dict[str, Any] = {}
        required: list[str] = []
        for p in list(sig.parameters.values())[1:]:  # first parameter is the context
            hint = hints[p.name]
            _, doc = _unwrap(hint)
            is_required = p.default is inspect.Parameter.empty
            params.append(_Param(p.name, hint, is_required, bool(doc and doc.allow_nul)))
            props[p.name] = json_schema(hint)
            if is_required:
                required.append(p.name)
        input_schema: dict[str, Any] = {
            "type": "object",
            "properties": props,
            "additionalProperties": False,
        }
        if required:
            input_schema["required"] = required
        result_type = hints["return"]
        return cls(
            name=fn.__name__,
            description=description,
            fn=fn,
            annotations=annotations,
            result_type=result_type,
            params=params,
            input_schema=input_schema,
            output_schema=output_schema(result_type),
        )

    def bind(self, arguments: Any) -> dict[str, Any]:
        """Check arguments against the signature; raise :class:`ToolError` naming the problem."""
        if (arguments is None or arguments == {}) and not self.params:
            return {}
        if arguments is None:
            arguments = {}
        if not isinstance(arguments, dict):
            raise ToolError("arguments must be a JSON object")
        known = {p.name for p in self.params}
        unknown = sorted(k for k in arguments if k not in known)
        if unknown:
            raise ToolError(
                f"unknown argument{'s' if len(unknown) > 1 else ''} "
                f"{', '.join(repr(u) for u in unknown)} for {self.name}; "
                f"accepted: {', '.join(sorted(known)) or 'none'}"
            )
        bound: dict[str, Any] = {}
        for p in self.params:
            if p.name not in arguments:
                if p.required:
                    raise ToolError(f"missing required argument '{p.name}' for {self.name}")
                continue
            bound[p.name] = _check_value(p.name, p.hint, arguments[p.name], p.allow_nul)
        return bound

    async def call(self, ctx: ToolContext, arguments: Any) -> Outcome:
        """Run the tool. Every failure becomes an :class:`Outcome`, never an exception
        (except cancellation, which the caller owns). A tool answering from a cache (the
        very same result object again) gets the very same outcome, not a new conversion."""
        try:
            result = await self.fn(ctx, **self.bind(arguments))
        except ToolError as exc:
            return error_outcome(exc.message, exc.status)
        last = self._last
        if last is not None and last[0] is result:
            return last[1]
        structured = to_jsonable(result)
        outcome = Outcome(structured, result.render(), structured.get("status") != "ok")
        self._last = (result, outcome)
        return outcome


def error_outcome(message: str, status: str = "rejected") -> Outcome:
    return Outcome({"status": status, "error": message}, f"error: {message}", True)


def to_jsonable(value: Any) -> Any:
    """Dataclasses to plain JSON values (faster than ``dataclasses.asdict`` for our shapes)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, list | tuple):
        return [to_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {k: to_jsonable(v) for k, v in value.items()}
    return value
