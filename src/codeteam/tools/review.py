"""``code_review``: run the language's linters (sandboxed) on a snippet or a workspace path
and report their findings, or say explicitly that there were none."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Literal

from codeteam.toolchains.base import Finding
from codeteam.tools.base import Doc, ToolContext, ToolError
from codeteam.tools.project import SnapshotNote, snapshot_lines


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
    import tempfile

    from codeteam.tools.progress import ticking
    from codeteam.tools.project import resolve_project, sandbox_view, translated

    settings = ctx.settings
    if (code is None) == (path is None):
        raise ToolError("give exactly one of code or path")
    services = ctx.services
    snapshot = None
    with translated():
        if code is not None:
            if language is None:
                raise ToolError("language is required with code: python or go")
            if not code.strip():
                raise ToolError("code is empty; pass the source text to review")
            if len(code.encode("utf-8")) > settings.max_code_bytes:
                raise ToolError(f"code is over the {settings.max_code_bytes}-byte limit")
            toolchain = services.toolchain(language)
            with tempfile.TemporaryDirectory(prefix="codeteam-review-") as tmp:
                folder = Path(tmp)
                folder.chmod(0o755)  # the sandbox's unprivileged uid must read it
                files = toolchain.snippet(code)
                for name, data in files.items():
                    (folder / name).write_bytes(data)
                    (folder / name).chmod(0o644)
                main = folder / next(iter(files))
                async with ticking(ctx, f"reviewing {language} code"):
                    findings, skipped = await toolchain.review(
                        services.executor,
                        folder,
                        main,
                        settings.max_timeout_s,
                        strict=strict_types,
                    )
        else:
            assert path is not None
            project = resolve_project(ctx, path, language)
            language = project.language
            async with (
                ticking(ctx, f"reviewing {path}"),
                sandbox_view(ctx, project) as (root, target),
            ):
                findings, skipped = await project.toolchain.review(
                    project.executor, root, target, settings.max_timeout_s, strict=strict_types
                )
            snapshot = project.snapshot
    linters = services.toolchain(language).linters(strict_types)
    ran = [t for t in linters if t not in skipped]
    failed = any(f.rule == "tool-failure" for f in findings)
    return ReviewResult(
        status="error" if failed else "ok",
        language=language,
        clean=not findings,
        findings=findings,
        tools_run=ran,
        skipped_tools=skipped,
        summary=_summary(language, findings, ran, skipped),
        snapshot=snapshot,
    )
