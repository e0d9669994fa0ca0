"""Records each task's duration for scripts/bench, as ansible.posix's profile_tasks times it.

profile_tasks is not part of ansible-core, so the benchmark carries this stand-in: a task is
timed from its start (v2_playbook_on_task_start) to its runner result, which is what
profile_tasks reports for a one-host play up to the few milliseconds it takes to display that
result. One JSON line per task result is appended to the file named by BENCH_TASK_TIMES.
"""

import json
import os
import time

from ansible.plugins.callback import CallbackBase

DOCUMENTATION = """
    name: task_timer
    type: aggregate
    short_description: write each task's duration to the file named by BENCH_TASK_TIMES
    description:
      - Used by scripts/bench; enable with ANSIBLE_CALLBACKS_ENABLED=task_timer.
"""


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "task_timer"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self):
        super().__init__()
        self._path = os.environ["BENCH_TASK_TIMES"]
        self._started = {}

    def v2_playbook_on_task_start(self, task, is_conditional):
        self._started[task._uuid] = time.perf_counter()

    def _record(self, result, status):
        # The clock is read first, so writing the record is not part of the task's time.
        seconds = time.perf_counter() - self._started[result.task._uuid]
        record = {"name": result.task.get_name(), "action": result.task.action, "status": status, "seconds": seconds}
        with open(self._path, "a", encoding="utf-8") as f:
            f.write(json.dumps(record) + "\n")

    def v2_runner_on_ok(self, result):
        self._record(result, "ok")

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._record(result, "failed")

    def v2_runner_on_skipped(self, result):
        self._record(result, "skipped")

    def v2_runner_on_unreachable(self, result):
        self._record(result, "unreachable")
