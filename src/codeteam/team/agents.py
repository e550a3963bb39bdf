"""Who is on the team: the lead's ``assign_task`` tool, each specialist's system prompt
and the MCP tools it may use."""

from __future__ import annotations

from dataclasses import dataclass

from codeteam.llm import ToolDef
from codeteam.team.plan import AGENTS, TaskSpec
from codeteam.team.scheduler import TaskOutcome

ASSIGN_TASK = ToolDef(
    name="assign_task",
    description=(
        "Assign one subtask to a specialist agent. Call it once per subtask, all in one reply: "
        "together the calls form the plan. Tasks without dependencies run in parallel. When "
        "the plan has run, each call's result is that subtask's outcome."
    ),
    input_schema={
        "type": "object",
        "properties": {
            "id": {"type": "string", "description": "short unique task name, e.g. 'impl'"},
            "agent": {
                "type": "string",
                "enum": list(AGENTS),
                "description": "code writes and runs code; test writes and runs tests; "
                "review lints and checks for leaks; deploy builds and packages",
            },
            "description": {
                "type": "string",
                "description": "what the agent must do: files, behaviour, language",
            },
            "depends_on": {
                "type": "array",
                "items": {"type": "string"},
                "description": "ids of tasks that must finish first (their files are there)",
            },
        },
        "required": ["id", "agent", "description"],
        "additionalProperties": False,
    },
)

LEAD_SYSTEM = """You are the lead engineer of a small team of coding agents sharing one \
workspace. Decompose the user's request into subtasks by calling assign_task once per \
subtask, all in a single reply. Agents: code (writes source files and runs them), test \
(writes and runs unit and concurrency tests), review (runs linters, checks for resource \
leaks), deploy (builds/packages). Use depends_on so a task starts after the tasks whose \
files it needs; independent tasks run in parallel. Give each task a complete description \
(language, file names, behaviour): the agents see only your description and the results \
of the tasks it depends on. For a performance request, find the bottleneck first: a code \
task that profiles (profile) and measures (run_benchmarks), then a code task that changes \
the bottleneck and runs the benchmarks again, then review (lint) and test (the tests still \
pass) tasks after it. When the results come back, write the final report: what was \
built (files), test results, review findings, measured figures, and any task that failed \
and why."""

_COMMON = """You work in a shared workspace through tools; paths are relative to the \
workspace root. Do the task you are given, verify it with the tools, and finish with a \
short summary of what you did and the outcome (files, results). Do not ask questions."""

SPECIALIST_SYSTEM = {
    "code": "You are the code agent: you write and run source code. " + _COMMON,
    "test": "You are the test agent: you write unit and concurrency tests and run them "
    "until they pass, fixing tests (not hiding failures). " + _COMMON,
    "review": "You are the review agent: you read the code, run the linters through "
    "code_review, and look for bugs and leaks (threads, goroutines, memory). Report "
    "findings; do not rewrite the code. " + _COMMON,
    "deploy": "You are the deploy agent: you build and package the project and check that "
    "the build works. " + _COMMON,
}

_FILES = ("read_file", "write_file", "list_files")
TOOLSETS: dict[str, tuple[str, ...]] = {
    "code": (*_FILES, "execute_code", "run_tests", "profile", "run_benchmarks", "list_toolchains"),
    "test": (*_FILES, "run_tests", "execute_code", "run_benchmarks", "list_toolchains"),
    "review": ("read_file", "list_files", "code_review", "profile", "list_toolchains"),
    "deploy": (*_FILES, "execute_code", "run_tests", "build", "list_toolchains"),
}


@dataclass(frozen=True)
class Brief:
    system: str
    prompt: str
    tool_names: tuple[str, ...]


def brief(request: str, spec: TaskSpec, deps: dict[str, TaskOutcome]) -> Brief:
    parts = [f"Overall request: {request}", f"Your task ({spec.id}): {spec.description}"]
    if deps:
        lines = [f"- {d}: {o.describe()}" for d, o in deps.items()]
        parts.append(
            "Results of the tasks this one builds on (their files are in the workspace):\n"
            + "\n".join(lines)
        )
    return Brief(SPECIALIST_SYSTEM[spec.agent], "\n\n".join(parts), TOOLSETS[spec.agent])


def lead_prompt(request: str) -> str:
    return (
        f"Request: {request}\n\nPlan the work with assign_task (one call per subtask, all "
        "in this reply). Paths are relative to the workspace root."
    )
