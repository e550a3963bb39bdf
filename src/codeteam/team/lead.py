"""The lead: turns the request into a plan of ``assign_task`` calls, has the scheduler run
it, hands each task's outcome back as that call's tool result, and writes the report.

All ``assign_task`` calls of one turn form one plan. An invalid plan goes back as
``is_error`` results with the reasons, and the lead revises (``max_plan_attempts`` in a
row at most). On resume, tasks finished in the records are not run again.
"""

from __future__ import annotations

from codeteam.llm import Block, Message, Provider
from codeteam.store import Store
from codeteam.team import agents
from codeteam.team.budget import RunBudget
from codeteam.team.config import TeamConfig
from codeteam.team.events import Plan, PlannedTask, PlanRejected, TaskResumed
from codeteam.team.loop import tool_loop, tool_result
from codeteam.team.plan import TaskSpec, check_plan
from codeteam.team.recorder import Recorder
from codeteam.team.scheduler import OnDone, RunTask, TaskOutcome, run_plan


class PlanError(Exception):
    """The lead kept sending invalid plans."""


class Lead:
    def __init__(
        self,
        cfg: TeamConfig,
        provider: Provider,
        budget: RunBudget,
        store: Store,
        rec: Recorder,
        *,
        run_task: RunTask,
        task_done: OnDone,
        outcomes: dict[str, TaskOutcome],
        resumed: set[str],
    ) -> None:
        self.cfg = cfg
        self.provider = provider
        self.budget = budget
        self.store = store
        self.rec = rec
        self._run_task = run_task
        self._task_done = task_done
        #: every task's outcome so far (on resume: the finished ones from the records)
        self.outcomes = outcomes
        self._resumed = resumed  # finished in the records: never run again
        self._rejections = 0

    async def run(self, history: list[Message] | None = None) -> str:
        """The lead's final answer (its report), continuing ``history`` on resume."""
        run_id = self.rec.run_id

        def keep(messages: list[Message]) -> None:
            self.store.set_run_state(run_id, lead_messages=messages)

        res = await tool_loop(
            self.provider,
            system=agents.LEAD_SYSTEM,
            prompt=agents.lead_prompt(self.cfg.request),
            tools=[agents.ASSIGN_TASK],
            handle=self._plan,
            max_turns=self.cfg.lead_max_turns,
            max_tokens=self.cfg.max_tokens,
            on_turn=self.rec.on_turn(None),
            before_turn=self.budget.check,
            history=history,
            on_messages=keep,
        )
        if res.status == "turn_limit" and not res.text:
            return f"(the lead stopped at its turn limit of {self.cfg.lead_max_turns} turns)"
        return res.text

    async def _plan(self, uses: list[Block]) -> list[Block]:
        assign = [u for u in uses if u["name"] == "assign_task"]
        # A weak model may send any JSON as the id: only strings can name a task.
        ids = {
            u["input"]["id"]
            for u in assign
            if isinstance(u.get("input"), dict) and isinstance(u["input"].get("id"), str)
        }
        # On resume the pending plan's finished tasks are in the records: not duplicates.
        earlier = [k for k in self.outcomes if not (k in self._resumed and k in ids)]
        check = check_plan([(u["id"], u["input"]) for u in assign], done=earlier)
        if not check.ok:
            self._rejections += 1
            self.rec.emit(PlanRejected(list(check.errors.values())))
            if self._rejections >= self.cfg.max_plan_attempts:
                raise PlanError(
                    f"the lead sent {self._rejections} invalid plans; last problems: "
                    + "; ".join(check.errors.values())
                )
        else:
            self._rejections = 0  # the limit is on invalid plans in a row
            await self._run(check.tasks)
        by_use = {t.tool_use_id: t for t in check.tasks}
        results: list[Block] = []
        for use in uses:
            if use["name"] != "assign_task":
                text = f"unknown tool {use['name']!r}; the lead can only call assign_task"
                results.append(tool_result(use["id"], text, True))
            elif use["id"] in check.errors:
                results.append(tool_result(use["id"], check.errors[use["id"]], True))
            elif not check.ok:
                text = (
                    "not run: the plan was rejected (see the other errors); send the corrected plan"
                )
                results.append(tool_result(use["id"], text, True))
            else:
                spec = by_use[use["id"]]
                outcome = self.outcomes[spec.id]
                results.append(
                    tool_result(
                        use["id"],
                        f"task {spec.id} ({spec.agent}) {outcome.describe()}",
                        not outcome.ok,
                    )
                )
        return results

    async def _run(self, tasks: list[TaskSpec]) -> None:
        """Record a valid plan and run what the records do not already hold."""
        run_id = self.rec.run_id
        for spec in tasks:
            self.store.add_task(
                run_id, spec.id, spec.agent, spec.description, list(spec.depends_on)
            )
        self.rec.emit(
            Plan([PlannedTask(t.id, t.agent, list(t.depends_on), t.description) for t in tasks])
        )
        todo = [t for t in tasks if t.id not in self._resumed]
        for t in tasks:
            if t.id in self._resumed:
                status = self.outcomes[t.id].status
                self.rec.emit(TaskResumed(t.id, t.agent, status))
        done = await run_plan(
            todo,
            self._run_task,
            max_parallel=self.cfg.max_parallel,
            task_timeout_s=self.cfg.task_timeout_s,
            prior=self.outcomes,
            on_done=self._task_done,
        )
        self.outcomes.update(done)
