"""``code_review``: run the language's linters (sandboxed) on a snippet or a workspace path
and report their findings, or say explicitly that there were none."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Literal

from codeteam.toolchains.base import Finding
from codeteam.tools.base import Doc, ToolContext
from codeteam.tools.checks import check_code, one_source, snippet_language
from codeteam.tools.project import (
    SnapshotNote,
    resolve_project,
    sandbox_view,
    snapshot_lines,
    translated,
)


@dataclass
class ReviewResult:
    status: Annotated[
        Literal["ok", "error"],
        Doc("ok: the linters ran (findings or not); error: a linter itself failed"),
    ]
    language: str
    clean: Annotated[bool, Doc("true when no linter reported anything")]
    findings: list[Finding] = field(default_factory=list)
    tools_run: list[str] = field(default_factory=list)
    skipped_tools: Annotated[list[str], Doc("linters not installed (see list_toolchains)")] = field(
        default_factory=list
    )
    summary: str = ""
    snapshot: SnapshotNote = None

    def render(self) -> str:
        lines = [self.summary, *snapshot_lines(self.snapshot)]
        for f in self.findings:
            where = f"{f.file}:{f.line}:{f.column}" if f.file else "(no file)"
            lines.append(f"  {where}: {f.severity} [{f.tool} {f.rule}] {f.message}")
        return "\n".join(lines)


def _summary(language: str, findings: list[Finding], ran: list[str], skipped: list[str]) -> str:
    tools = ", ".join(ran) or "no linters"
    text = (
        f"no findings from {tools}: the code looks clean"
        if not findings
        else f"{len(findings)} finding{'s' * (len(findings) != 1)} from {tools}"
    )
    if skipped:
        text += f" (not installed: {', '.join(skipped)})"
    return f"{language}: {text}"


async def code_review(
    ctx: ToolContext,
    code: Annotated[str | None, Doc("source to review (give this or path, not both)")] = None,
    path: Annotated[
        str | None, Doc("a file or directory in the workspace to review (give this or code)")
    ] = None,
    language: Annotated[
        str | None, Doc("python or go; required with code, detected from path otherwise")
    ] = None,
    strict_types: Annotated[
        bool, Doc("Python: also type-check with mypy --strict (slower; default false)")
    ] = False,
) -> ReviewResult:
    one_source(code, path)
    with translated():
        if code is not None:
            reviewed = await _review_snippet(ctx, code, language, strict_types)
        else:
            assert path is not None
            reviewed = await _review_project(ctx, path, language, strict_types)
    return reviewed.result()


@dataclass
class _Reviewed:
    """What the linters said about a snippet or a project."""

    language: str
    linters: list[str]  # those the toolchain runs when installed
    findings: list[Finding]
    skipped: list[str]
    snapshot: str | None = None

    def result(self) -> ReviewResult:
        language, findings, skipped = self.language, self.findings, self.skipped
        ran = [t for t in self.linters if t not in skipped]
        failed = any(f.rule == "tool-failure" for f in findings)
        return ReviewResult(
            status="error" if failed else "ok",
            language=language,
            clean=not findings,
            findings=findings,
            tools_run=ran,
            skipped_tools=skipped,
            summary=_summary(language, findings, ran, skipped),
            snapshot=self.snapshot,
        )


async def _review_snippet(
    ctx: ToolContext, code: str, language: str | None, strict: bool
) -> _Reviewed:
    from codeteam.tools.progress import ticking

    language = snippet_language(language, ctx.services.toolchains.languages)
    check_code(ctx.settings, code)
    services = ctx.services
    toolchain = services.toolchain(language)
    with snippet_folder(toolchain.snippet(code)) as (folder, main):
        async with ticking(ctx, f"reviewing {language} code"):
            findings, skipped = await toolchain.review(
                services.executor, folder, main, ctx.settings.max_timeout_s, strict=strict
            )
    return _Reviewed(language, toolchain.linters(strict), findings, skipped)


async def _review_project(
    ctx: ToolContext, path: str, language: str | None, strict: bool
) -> _Reviewed:
    from codeteam.tools.progress import ticking

    project = resolve_project(ctx, path, language)
    async with (
        ticking(ctx, f"reviewing {path}"),
        sandbox_view(ctx, project) as (root, target),
    ):
        findings, skipped = await project.toolchain.review(
            project.executor, root, target, ctx.settings.max_timeout_s, strict=strict
        )
    linters = project.toolchain.linters(strict)
    return _Reviewed(project.language, linters, findings, skipped, project.snapshot)


@contextmanager
def snippet_folder(files: dict[str, bytes]) -> Iterator[tuple[Path, Path]]:
    """A temporary folder the sandbox's unprivileged uid can read, holding a snippet's
    files: (the folder, its main file)."""
    import tempfile

    with tempfile.TemporaryDirectory(prefix="codeteam-review-") as tmp:
        folder = Path(tmp)
        folder.chmod(0o755)
        for name, data in files.items():
            (folder / name).write_bytes(data)
            (folder / name).chmod(0o644)
        yield folder, folder / next(iter(files))
