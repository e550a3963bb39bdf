"""Keep every model exchange of an eval, and answer from them later with no network.

A recording is a directory: ``manifest.json`` (provider, model, what was recorded) and
``exchanges.jsonl``, one line per model call: the request, the answer, and where it
belongs — the problem, the conversation (a digest of its system prompt and first
message) and the turn within it. Replay looks answers up by that place, not by the whole
request, because tool results (timings, paths) differ from one run to the next while the
conversation they belong to does not.
"""

from __future__ import annotations

import hashlib
import json
import threading
from dataclasses import asdict
from pathlib import Path
from typing import Any

from codeteam.config import ConfigError
from codeteam.llm import LLMError, Message, Provider, ToolDef, Turn, Usage

MANIFEST = "manifest.json"
EXCHANGES = "exchanges.jsonl"
FORMAT = 1

Place = tuple[str, str, int]  # problem, conversation, turn


def _place(problem: str, system: str, messages: list[Message]) -> Place:
    first = json.dumps(messages[0], sort_keys=True) if messages else ""
    digest = hashlib.sha256(f"{system}\0{first}".encode()).hexdigest()[:16]
    return problem, digest, sum(1 for m in messages if m["role"] == "assistant")


class Recorder:
    """Appends exchanges to a recording directory (created, or added to)."""

    def __init__(self, root: Path, manifest: dict[str, Any]) -> None:
        try:
            root.mkdir(parents=True, exist_ok=True)
            (root / MANIFEST).write_text(json.dumps({"format": FORMAT, **manifest}, indent=2))
            self._out = (root / EXCHANGES).open("a", encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"cannot record into {root}: {exc.strerror}") from None
        self._lock = threading.Lock()

    def wrap(self, inner: Provider, problem: str) -> Provider:
        return _Recording(inner, problem, self)

    def keep(self, place: Place, request: dict[str, Any], turn: Turn) -> None:
        line = {
            "problem": place[0],
            "conversation": place[1],
            "turn": place[2],
            "request": request,
            "response": {
                "content": turn.content,
                "stop_reason": turn.stop_reason,
                "usage": asdict(turn.usage),
                "model": turn.model,
            },
        }
        with self._lock:
            self._out.write(json.dumps(line) + "\n")
            self._out.flush()

    def close(self) -> None:
        self._out.close()


class _Recording:
    def __init__(self, inner: Provider, problem: str, rec: Recorder) -> None:
        self.name, self.model = inner.name, inner.model
        self._inner, self._problem, self._rec = inner, problem, rec

    async def turn(
        self, *, system: str, messages: list[Message], tools: list[ToolDef], max_tokens: int
    ) -> Turn:
        turn = await self._inner.turn(
            system=system, messages=messages, tools=tools, max_tokens=max_tokens
        )
        request = {
            "system": system,
            "messages": messages,
            "tools": [t.name for t in tools],
            "max_tokens": max_tokens,
        }
        self._rec.keep(_place(self._problem, system, messages), request, turn)
        return turn

    async def aclose(self) -> None:
        return None  # the shared provider is closed by its owner


class Replay:
    """The answers of a recording, read whole up front: a directory that is not a
    recording is refused before anything runs (:class:`ConfigError`)."""

    def __init__(self, root: Path) -> None:
        def bad(why: str) -> ConfigError:
            return ConfigError(
                f"--replay {root} is not a usable recording ({why}): give a directory "
                "written by codeteam eval --record DIR"
            )

        try:
            manifest = json.loads((root / MANIFEST).read_text(encoding="utf-8"))
            lines = (root / EXCHANGES).read_text(encoding="utf-8").splitlines()
        except FileNotFoundError as exc:
            raise bad(f"no {Path(str(exc.filename)).name}") from None
        except (OSError, ValueError) as exc:
            raise bad(f"{MANIFEST}: {exc}") from None
        if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
            raise bad(f"{MANIFEST} is not format {FORMAT}")
        self.manifest: dict[str, Any] = manifest
        self.answers: dict[Place, dict[str, Any]] = {}
        for n, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                x = json.loads(line)
                place = (str(x["problem"]), str(x["conversation"]), int(x["turn"]))
                r = x["response"]
                if not isinstance(r["content"], list) or not isinstance(r["stop_reason"], str):
                    raise ValueError("bad response")
                Usage(**r["usage"])
            except (ValueError, KeyError, TypeError) as exc:
                raise bad(f"{EXCHANGES} line {n}: {exc}") from None
            self.answers[place] = r

    @property
    def model(self) -> str:
        return str(self.manifest.get("model") or "replay")

    def wrap(self, problem: str) -> Provider:
        return _Replaying(self, problem)


class _Replaying:
    name = "replay"

    def __init__(self, replay: Replay, problem: str) -> None:
        self.model = replay.model
        self._replay, self._problem = replay, problem

    async def turn(
        self, *, system: str, messages: list[Message], tools: list[ToolDef], max_tokens: int
    ) -> Turn:
        place = _place(self._problem, system, messages)
        r = self._replay.answers.get(place)
        if r is None:
            raise LLMError(
                f"the recording has no answer for {self._problem} (conversation {place[1]}, "
                f"turn {place[2]}): the run went another way than when it was recorded"
            )
        return Turn(
            content=r["content"],
            stop_reason=r["stop_reason"],
            usage=Usage(**r["usage"]),
            model=str(r.get("model") or self.model),
        )

    async def aclose(self) -> None:
        return None
