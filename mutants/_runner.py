"""Run spec areas against mutants, many runs per Python process.

Importing TensorFlow costs seconds, a spec area against a mutant often less
than one. So a *worker* process imports TensorFlow once and runs
``pytest.main`` in-process for one job after another, collecting each clause's
outcome with a small plugin object. :class:`WorkerPool` keeps a few workers busy
and hands back :class:`RunResult` futures; the meta test and the kill matrix
both use it.

In-process runs are sound because every ``pytest.main`` makes a new Config
(``spec_tests.plugin`` re-resolves ``--impl`` from it) and because the worker
forgets the spec modules (``spec_tests.test_*`` and ``spec_tests.conftest``)
before each run, so module-level code sees the new implementation too.

Worker protocol: one JSON job per line on stdin, one JSON result per line on
the worker's original stdout; pytest's own output goes to /dev/null (or stderr
with ``MUTANTS_DEBUG=1``).
"""

from __future__ import annotations

import atexit
import concurrent.futures
import dataclasses
import gc
import json
import os
import queue
import re
import select
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
# Environment a worker must not inherit from an outer pytest run.
_SCRUBBED_ENV = ("PYTEST_ADDOPTS", "PYTEST_CURRENT_TEST", "PYTEST_XDIST_WORKER", "PYTEST_XDIST_WORKER_COUNT",
                 "PYTEST_XDIST_TESTRUNUID", "LAYER_SPEC_IMPL", "LAYER_SPEC_PROFILE")
_MESSAGE_CHARS = 300
_ANSI = re.compile(r"\x1b\[[0-9;]*m")
#: Areas whose clauses leave process-wide state behind that changes later runs of the same area: TensorFlow's
#: collective ops (MirroredStrategy) cancel a step whose all-reduce pattern differs from an earlier run's, and
#: a failed collective aborts every later one. A job with such an area runs in a fresh worker, retired after it,
#: exactly like a plain ``pytest`` run of the spec in its own process.
ISOLATED_AREAS = frozenset({"distribution"})


@dataclasses.dataclass
class Job:
    """Run ``areas`` of the spec against ``spec`` (an ``--impl`` value) under ``profile``."""

    spec: str
    areas: tuple[str, ...]
    profile: str = "dense"
    first_failure: bool = False  # stop an area at its first failing clause (skip the rest of it)

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self))


@dataclasses.dataclass
class RunResult:
    """What one job found: per area, the failing clauses (node id -> short message) and the counts."""

    spec: str
    areas: tuple[str, ...]
    profile: str
    exit_code: int | None
    failed: dict[str, dict[str, str]]  # area -> {clause node id: first line of its failure}
    counts: dict[str, dict[str, int]]  # area -> {"passed": n, "failed": n, "skipped": n}
    error: str | None = None  # the harness failed: usage error, collection error, dead worker
    seconds: float = 0.0

    def killed_by(self, area: str) -> bool:
        return bool(self.failed.get(area))

    def ran(self, area: str) -> int:
        return sum(self.counts.get(area, {}).values())

    @classmethod
    def from_dict(cls, data: dict) -> "RunResult":
        data = dict(data)
        data["areas"] = tuple(data["areas"])
        return cls(**data)


def area_of_nodeid(nodeid: str) -> str:
    """``spec_tests/test_bias.py::test_x[1]`` -> ``bias``."""
    return nodeid.split("::", 1)[0].replace("\\", "/").rsplit("/", 1)[-1].removesuffix(".py").removeprefix("test_")


def _short_message(report) -> str:
    crash = getattr(getattr(report, "longrepr", None), "reprcrash", None)
    text = crash.message if crash is not None else str(getattr(report, "longrepr", "") or "")
    text = " | ".join(line.strip() for line in _ANSI.sub("", text).strip().splitlines()[:3] if line.strip())
    if report.when != "call":
        text = f"[{report.when}] {text}"
    return text[:_MESSAGE_CHARS]


class Collector:
    """A pytest plugin object that records every clause's outcome of one run."""

    def __init__(self, first_failure: bool = False, areas: tuple[str, ...] = ()):
        self.first_failure = first_failure
        self.areas = tuple(areas)
        self.session = None
        self.outcomes: dict[str, str] = {}  # node id -> passed / failed / skipped (a failure in any phase wins)
        self.messages: dict[str, str] = {}
        self.collect_errors: list[str] = []

    def pytest_sessionstart(self, session):
        self.session = session

    def pytest_collectreport(self, report):
        if report.failed:
            self.collect_errors.append(f"{report.nodeid}: {_short_message(report)}")

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_setup(self, item):
        if self.first_failure and area_of_nodeid(item.nodeid) in self.failed:
            pytest.skip("area already rejected the implementation (first-failure mode)")

    def pytest_runtest_logreport(self, report):
        if report.failed:
            if self.outcomes.get(report.nodeid) != "failed":
                self.messages[report.nodeid] = _short_message(report)
            self.outcomes[report.nodeid] = "failed"
            if self.first_failure and self.session is not None and set(self.areas) <= set(self.failed):
                self.session.shouldfail = "every area already rejected the implementation (first-failure mode)"
        elif report.skipped and report.when in ("setup", "call"):
            self.outcomes.setdefault(report.nodeid, "skipped")
        elif report.passed and report.when == "call":
            self.outcomes.setdefault(report.nodeid, "passed")

    @property
    def failed(self) -> dict[str, dict[str, str]]:
        failed: dict[str, dict[str, str]] = {}
        for nodeid, outcome in self.outcomes.items():
            if outcome == "failed":
                failed.setdefault(area_of_nodeid(nodeid), {})[nodeid] = self.messages.get(nodeid, "")
        return failed

    @property
    def counts(self) -> dict[str, dict[str, int]]:
        counts: dict[str, dict[str, int]] = {}
        for nodeid, outcome in self.outcomes.items():
            area = counts.setdefault(area_of_nodeid(nodeid), {"passed": 0, "failed": 0, "skipped": 0})
            area[outcome] += 1
        return counts


def _forget_spec_modules() -> None:
    """Drop the spec modules and their conftest so the next run imports them afresh."""
    for name in list(sys.modules):
        if name == "spec_tests.conftest" or name.startswith("spec_tests.test_"):
            del sys.modules[name]


def run_in_process(job: Job, basetemp: Path | None = None) -> RunResult:
    """Run one job with ``pytest.main`` in this process (TensorFlow already imported after the first)."""
    started = time.perf_counter()
    _forget_spec_modules()
    collector = Collector(job.first_failure, job.areas)
    from spec_tests.plugin import ImplSpecError, load_impl

    try:
        load_impl(job.spec)
    except ImplSpecError as exc:
        return RunResult(job.spec, tuple(job.areas), job.profile, None, {}, {}, error=f"bad --impl: {exc}")
    files = [f"spec_tests/test_{area}.py" for area in job.areas]
    missing = [f for f in files if not (REPO_ROOT / f).is_file()]
    if missing:
        return RunResult(job.spec, tuple(job.areas), job.profile, None, {}, {},
                         error=f"no such spec module(s): {', '.join(missing)}")
    args = [
        *files,
        "--impl", job.spec,
        "--profile", job.profile,
        "-p", "no:randomly",
        "-p", "no:cacheprovider",
        "-q",
        "--tb=line",
        "-W", "ignore::pytest.PytestAssertRewriteWarning",
        # Its end-of-run gc.collect() costs over a second with TensorFlow's object graph, on every run.
        "-p", "no:unraisableexception",
    ]
    if basetemp is not None:
        args.append(f"--basetemp={basetemp}")
    cwd = os.getcwd()
    os.chdir(REPO_ROOT)
    try:
        exit_code = int(pytest.main(args, plugins=[collector]))
    except BaseException as exc:  # noqa: BLE001 - a crashed run is a harness error, reported as such
        return RunResult(job.spec, tuple(job.areas), job.profile, None, collector.failed, collector.counts,
                         error=f"pytest.main raised {type(exc).__name__}: {exc}",
                         seconds=time.perf_counter() - started)
    finally:
        os.chdir(cwd)
    error = None
    if collector.collect_errors:
        error = "collection error: " + "; ".join(collector.collect_errors)
    elif exit_code not in (0, 1):
        error = f"pytest exited with code {exit_code} (usage error, internal error or nothing collected)"
    return RunResult(job.spec, tuple(job.areas), job.profile, exit_code, collector.failed, collector.counts,
                     error=error, seconds=time.perf_counter() - started)


def worker_main() -> int:
    """Serve jobs from stdin until it closes; answer each with one JSON line on the original stdout."""
    protocol = os.fdopen(os.dup(1), "w", buffering=1)
    sink = os.open(os.devnull, os.O_WRONLY)
    os.dup2(2 if os.environ.get("MUTANTS_DEBUG") else sink, 1)  # pytest's terminal output must not mix in
    if not os.environ.get("MUTANTS_DEBUG"):
        os.dup2(sink, 2)
    sys.stdout = os.fdopen(1, "w", buffering=1, closefd=False)
    sys.stderr = os.fdopen(2, "w", buffering=1, closefd=False)
    if str(REPO_ROOT) not in sys.path:
        sys.path.insert(0, str(REPO_ROOT))
    import tensorflow  # noqa: F401 - pay the import once, before the first job

    try:  # the distribution clauses need the CPU split before TensorFlow's runtime starts (conftest does it too)
        from spec_tests.devices import split_cpu
    except ImportError:
        pass
    else:
        split_cpu()
    import spec_tests.plugin  # noqa: F401
    from spec_tests import generation, helpers  # noqa: F401 - imports Keras

    gc.freeze()  # TensorFlow's and Keras's objects live for good: keep them out of every later collection

    # Each run gets a fresh --basetemp of its own: no numbered tmp_path folders pile up, and no other pytest
    # process on the machine can clean up a folder a clause is still using.
    basetemp = Path(tempfile.mkdtemp(prefix="mutant-worker-")) / "run"
    atexit.register(shutil.rmtree, basetemp.parent, ignore_errors=True)
    protocol.write(json.dumps({"ready": True}) + "\n")
    for line in sys.stdin:
        if not line.strip():
            continue
        fields = json.loads(line)
        job = Job(**{**fields, "areas": tuple(fields["areas"])})
        result = run_in_process(job, basetemp=basetemp)
        protocol.write(json.dumps(dataclasses.asdict(result)) + "\n")
    return 0


def worker_env() -> dict:
    env = {k: v for k, v in os.environ.items() if k not in _SCRUBBED_ENV}
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO_ROOT), env.get("PYTHONPATH", "")) if p)
    return env


class _Worker:
    def __init__(self):
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "mutants._runner", "--worker"],
            cwd=str(REPO_ROOT), env=worker_env(), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=None if os.environ.get("MUTANTS_DEBUG") else subprocess.DEVNULL, text=True, bufsize=1,
        )
        self.jobs_done = 0
        ready = self.proc.stdout.readline()
        if not ready:
            raise RuntimeError(f"mutant worker died while starting (exit code {self.proc.wait()}); "
                               "rerun with MUTANTS_DEBUG=1 to see its stderr")

    def run(self, job: Job, timeout: float | None = None) -> RunResult:
        self.proc.stdin.write(job.to_json() + "\n")
        self.proc.stdin.flush()
        if timeout and not select.select([self.proc.stdout], [], [], timeout)[0]:
            self.proc.kill()
            self.proc.wait()
            return RunResult(job.spec, tuple(job.areas), job.profile, None, {}, {},
                             error=f"timed out after {timeout:.0f} s (MUTANTS_JOB_TIMEOUT); the worker was killed",
                             seconds=float(timeout))
        line = self.proc.stdout.readline()
        if not line:
            code = self.proc.wait()
            raise RuntimeError(f"mutant worker died (exit code {code}) while running {job.spec} on {job.areas}")
        self.jobs_done += 1
        return RunResult.from_dict(json.loads(line))

    def close(self):
        if self.proc.poll() is None:
            try:
                self.proc.stdin.close()
                self.proc.wait(timeout=30)
            except Exception:  # noqa: BLE001
                self.proc.kill()
                self.proc.wait()


class WorkerPool:
    """``size`` worker processes, each running queued jobs one after another; ``submit`` returns a Future."""

    def __init__(self, size: int | None = None, recycle_after: int = 40, timeout: float | None = None):
        self.size = max(1, size or default_workers())
        self.recycle_after = recycle_after
        self.timeout = timeout if timeout is not None else float(os.environ.get("MUTANTS_JOB_TIMEOUT", "600"))
        self._queue: queue.Queue = queue.Queue()
        self._threads = [threading.Thread(target=self._serve, daemon=True) for _ in range(self.size)]
        self._closed = False
        for thread in self._threads:
            thread.start()

    def submit(self, job: Job) -> concurrent.futures.Future:
        future: concurrent.futures.Future = concurrent.futures.Future()
        self._queue.put((job, future))
        return future

    def _serve(self):
        worker = None
        while True:
            item = self._queue.get()
            if item is None:
                break
            job, future = item
            if not future.set_running_or_notify_cancel():
                continue
            isolated = bool(ISOLATED_AREAS.intersection(job.areas))
            try:
                if (
                    worker is None
                    or worker.proc.poll() is not None
                    or worker.jobs_done >= self.recycle_after
                    or (isolated and worker.jobs_done)
                ):
                    if worker is not None:
                        worker.close()
                    worker = _Worker()
                future.set_result(worker.run(job, self.timeout))
                if isolated:
                    worker.close()
                    worker = None
            except BaseException as exc:  # noqa: BLE001 - handed to whoever waits on the future
                future.set_exception(exc)
                if worker is not None:
                    worker.close()
                worker = None
        if worker is not None:
            worker.close()

    def close(self):
        if self._closed:
            return
        self._closed = True
        for _ in self._threads:
            self._queue.put(None)
        for thread in self._threads:
            thread.join()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def default_workers() -> int:
    """``MUTANTS_WORKERS`` if set, else one per core, at most 2 (this machine has 2 cores)."""
    if os.environ.get("MUTANTS_WORKERS"):
        return max(1, int(os.environ["MUTANTS_WORKERS"]))
    return max(1, min(2, os.cpu_count() or 1))


if __name__ == "__main__":
    if sys.argv[1:] == ["--worker"]:
        sys.exit(worker_main())
    sys.exit("usage: python -m mutants._runner --worker   (a helper of tests/test_mutants.py and mutants.matrix)")
