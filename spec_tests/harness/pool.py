"""The pool: runs of the spec in worker processes, many runs per process, for the mutant zoo.

Importing TensorFlow costs seconds, a spec area against a mutant often less
than one. So a *worker* process imports TensorFlow once and serves one
:class:`Job` after another with the in-process runner
(:func:`spec_tests.harness.runner.run`). :class:`WorkerPool` keeps a few
workers busy and hands back futures of :class:`RunResult`; the mutant meta test
and the kill matrix both use it.

Worker protocol: one JSON job per line on stdin, one JSON result
(:meth:`RunResult.to_dict`) per line on the worker's original stdout; pytest's
own output goes to /dev/null (or stderr with ``MUTANTS_DEBUG=1``).
"""

from __future__ import annotations

import atexit
import concurrent.futures
import dataclasses
import gc
import json
import os
import queue
import select
import shutil
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

from spec_tests import environment
from spec_tests.harness.records import RunResult
from spec_tests.harness.runner import PACKAGE_PARENT

# Environment a worker must not inherit from an outer pytest run.
_SCRUBBED_ENV = ("PYTEST_ADDOPTS", "PYTEST_CURRENT_TEST", "PYTEST_XDIST_WORKER", "PYTEST_XDIST_WORKER_COUNT",
                 "PYTEST_XDIST_TESTRUNUID", environment.IMPL, environment.PROFILE)
#: Areas whose clauses may leave process-wide state behind: TensorFlow's collective ops (MirroredStrategy). Two
#: strategies in one process no longer share collective keys (``spec_tests/backend.py``: ``_mirrored_strategy``),
#: so a clean run of the area leaves nothing that changes a later one, and a worker serves job after job (the kill
#: matrix, regenerated this way, kills what it killed with a fresh worker per job). A step that fails inside a
#: replica context can still leave a collective aborted, which fails every later one in the process: a worker is
#: retired *after* a job in which such an area did not pass cleanly (a failed clause, an advisory, an error), and
#: the next job gets a fresh one. On TensorFlow only (:func:`_retires`): JAX's and torch's replicas leave nothing.
ISOLATED_AREAS = frozenset({"distribution"})
_CLEAN = frozenset({"passed", "xpassed", "xfailed", "skipped"})


@dataclasses.dataclass
class Job:
    """Run ``areas`` of the spec against ``spec`` (an ``--impl`` value) under ``profile``."""

    spec: str
    areas: tuple[str, ...]
    profile: str = "dense"
    first_failure: bool = False  # stop an area at its first failing clause (skip the rest of it)
    extra_args: tuple[str, ...] = ()  # more pytest arguments (the mutation run's -x)

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self))


def _retires(job: Job, result: RunResult) -> bool:
    """Whether the worker that ran ``job`` must not serve another: the backend may be TensorFlow's (an unset
    ``KERAS_BACKEND`` is taken for it) and an isolated area of the job did not pass cleanly, or the run failed."""
    backend = os.environ.get(environment.KERAS_BACKEND, "tensorflow")
    if backend != "tensorflow" or not ISOLATED_AREAS.intersection(job.areas):
        return False
    return bool(result.error) or any(clause.outcome not in _CLEAN for clause in result.clauses
                                     if clause.area in ISOLATED_AREAS)


def _failed_job(job: Job, error: str, seconds: float = 0.0) -> RunResult:
    return RunResult(implementation={"spec": job.spec}, profile={"name": job.profile}, versions={}, error=error,
                     seconds=seconds)


def worker_main() -> int:
    """Serve jobs from stdin until it closes; answer each with one JSON line on the original stdout."""
    protocol = os.fdopen(os.dup(1), "w", buffering=1)
    sink = os.open(os.devnull, os.O_WRONLY)
    os.dup2(2 if os.environ.get("MUTANTS_DEBUG") else sink, 1)  # pytest's terminal output must not mix in
    if not os.environ.get("MUTANTS_DEBUG"):
        os.dup2(sink, 2)
    sys.stdout = os.fdopen(1, "w", buffering=1, closefd=False)
    sys.stderr = os.fdopen(2, "w", buffering=1, closefd=False)
    if str(PACKAGE_PARENT) not in sys.path:
        sys.path.insert(0, str(PACKAGE_PARENT))
    import tensorflow  # noqa: F401 - pay the import once, before the first job

    try:  # the distribution clauses need the CPU split before TensorFlow's runtime starts (conftest does it too)
        from spec_tests.devices import split_cpu
    except ImportError:
        pass
    else:
        split_cpu()
    from spec_tests import generation, helpers  # noqa: F401 - imports Keras
    from spec_tests.harness import runner

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
        job = Job(**{**fields, "areas": tuple(fields["areas"]), "extra_args": tuple(fields.get("extra_args", ()))})
        result = runner.run(job.spec, job.areas, job.profile, job.first_failure, basetemp=basetemp,
                            extra_args=job.extra_args)
        protocol.write(json.dumps(result.to_dict()) + "\n")
    return 0


def worker_env() -> dict:
    env = {k: v for k, v in os.environ.items() if k not in _SCRUBBED_ENV}
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(PACKAGE_PARENT), env.get("PYTHONPATH", "")) if p)
    return env


class _Worker:
    def __init__(self):
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "spec_tests.harness.pool", "--worker"],
            cwd=str(PACKAGE_PARENT), env=worker_env(), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
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
            return _failed_job(job, f"timed out after {timeout:.0f} s (MUTANTS_JOB_TIMEOUT); the worker was killed",
                               float(timeout))
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
        self._workers: dict[int, _Worker] = {}  # each serving thread's current worker (terminate kills them)
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
            try:
                if worker is None or worker.proc.poll() is not None or worker.jobs_done >= self.recycle_after:
                    if worker is not None:
                        worker.close()
                    worker = _Worker()
                    self._workers[threading.get_ident()] = worker
                result = worker.run(job, self.timeout)
                if _retires(job, result):
                    worker.close()
                    worker = None
                future.set_result(result)
            except BaseException as exc:  # noqa: BLE001 - handed to whoever waits on the future
                future.set_exception(exc)
                if worker is not None:
                    worker.close()
                worker = None
        if worker is not None:
            worker.close()

    def terminate(self):
        """Kill the workers now (an interrupted run): their jobs fail, the queued ones are left to ``close``."""
        for worker in list(self._workers.values()):
            if worker.proc.poll() is None:
                worker.proc.kill()

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
    sys.exit("usage: python -m spec_tests.harness.pool --worker   (a helper of tests/test_mutants.py and mutants.matrix)")
