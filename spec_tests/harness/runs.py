"""Runs of the spec as a :class:`RunResult`: in this process (:func:`run`), or as jobs of a pool of worker processes
(:class:`WorkerPool`: the mutant zoo, the kill matrix, mutation testing, the project's own tests).

Importing TensorFlow costs seconds, a spec area against a mutant often less than one. So a *worker* process imports
TensorFlow once and serves one :class:`Job` after another with :func:`run`. Worker protocol: one JSON job per line on
stdin, one JSON result (:meth:`RunResult.to_dict`) per line on the worker's original stdout; pytest's own output goes
to /dev/null (or stderr with ``MUTANTS_DEBUG=1``).

Every process and every pytest run here is the launcher's (:mod:`~spec_tests.harness.launcher`): the workers
start with its one import rule, each job's clauses are logged as they run (:class:`~spec_tests.harness.launcher.
ClauseLog`), and a worker that dies in a clause is replaced, the job resumed without that clause, which fails with
the signal. A worker that cannot start, dies outside a clause or runs past the job's time limit gives the job a result
whose ``error`` says so: an explicit unknown, never a verdict.
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
import sys
import tempfile
import threading
import time
from pathlib import Path

import pytest

from spec_tests import environment
from spec_tests.harness import launcher
from spec_tests.harness.catalogue import SPEC_DIR, area_of, spec_areas
from spec_tests.harness.launcher import PACKAGE_PARENT, ClauseLog, how_it_ended, resume_after, resume_data
from spec_tests.harness.reporter import REPORTER
from spec_tests.harness.records import RunResult


# =========================================================================== in-process runs


class _FirstFailure:
    """Skips the rest of an area once one of its clauses failed; stops the session once every area did."""

    def __init__(self, areas):
        self.areas = set(areas)
        self.rejected: set[str] = set()
        self.session = None

    def pytest_sessionstart(self, session):
        self.session = session

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_setup(self, item):
        if area_of(item) in self.rejected:
            pytest.skip("area already rejected the implementation (first-failure mode)")

    def pytest_runtest_logreport(self, report):
        if report.failed:
            self.rejected.add(area_of(report.nodeid))
            if self.session is not None and self.areas and self.areas <= self.rejected:
                self.session.shouldfail = "every area already rejected the implementation (first-failure mode)"


class _Grab:
    """Takes the report part's result at the end of the session."""

    def __init__(self):
        self.result: RunResult | None = None

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session):
        reporter = session.config.pluginmanager.get_plugin(REPORTER)
        if reporter is not None and reporter.involved():
            self.result = reporter.result()


def forget_spec_modules() -> None:
    """Drop the spec modules and their conftest, so that the next run imports them afresh."""
    for name in list(sys.modules):
        if name == "spec_tests.conftest" or name.startswith("spec_tests.test_"):
            del sys.modules[name]


def _empty(spec: str, profile: str, error: str, seconds: float = 0.0) -> RunResult:
    return RunResult(implementation={"spec": spec, "class": "?", "file": "?"}, profile={"name": profile},
                     versions={}, error=error, seconds=seconds)


def run(spec: str, areas=(), profile: str = "dense", first_failure: bool = False, basetemp: Path | None = None,
        extra_args=(), clause_log: str = "", resume: dict | None = None) -> RunResult:
    """Run the spec's ``areas`` (default: every area) on the class ``spec`` names, in this process.

    Sound more than once per process: every pytest run makes a new Config (the selection part resolves
    ``--impl`` from it) and the spec modules are forgotten before each run; TensorFlow is imported once.
    ``first_failure``: stop each area at its first failing clause. ``clause_log``/``resume``: :class:`ClauseLog`.
    """
    from spec_tests.harness.selection import ImplSpecError, load_impl

    started = time.perf_counter()
    areas = tuple(areas) or tuple(spec_areas())
    try:
        load_impl(spec)
    except ImplSpecError as exc:
        return _empty(spec, profile, f"bad --impl: {exc}")
    files = [SPEC_DIR / f"test_{area}.py" for area in areas]
    missing = [str(path.name) for path in files if not path.is_file()]
    if missing:
        return _empty(spec, profile, f"no such spec module(s): {', '.join(missing)}")
    args = [
        *map(str, files), "--rootdir", str(PACKAGE_PARENT), "--impl", spec, "--profile", profile,
        "-p", "no:randomly", "-p", "no:cacheprovider", "-q", "--tb=line",
        "-W", "ignore::pytest.PytestAssertRewriteWarning",
        # Its end-of-run gc.collect() costs over a second with TensorFlow's object graph, on every run.
        "-p", "no:unraisableexception",
        *extra_args,
    ]
    if basetemp is not None:
        args.append(f"--basetemp={basetemp}")
    grab = _Grab()
    plugins = [grab] + ([_FirstFailure(areas)] if first_failure else [])
    if clause_log or resume:
        plugins.append(ClauseLog(clause_log, resume))
    forget_spec_modules()
    cwd = os.getcwd()
    os.chdir(PACKAGE_PARENT)
    try:
        exit_code, error = launcher.run_pytest_here(args, plugins), None
    except BaseException as exc:  # noqa: BLE001 - a crashed run is a harness error, reported as such
        exit_code, error = None, f"the pytest run raised {type(exc).__name__}: {exc}"
    finally:
        os.chdir(cwd)
    result = grab.result or _empty(spec, profile, "")
    result.exit_code = exit_code
    result.seconds = time.perf_counter() - started
    if error is None and result.collection_errors:
        error = "collection error: " + "; ".join(f"{e['id']}: {e['message']}" for e in result.collection_errors)
    elif error is None and exit_code not in (0, 1):
        error = f"pytest exited with code {exit_code} (usage error, internal error or nothing collected)"
    result.error = error
    return result


# =========================================================================== the pool


#: Areas whose clauses may leave process-wide state behind: TensorFlow's collective ops (MirroredStrategy). Two
#: strategies in one process no longer share collective keys (``spec_tests/backend.py``: ``_mirrored_strategy``),
#: so a clean run of the area leaves nothing that changes a later one, and a worker serves job after job. A step
#: that fails inside a replica context can still leave a collective aborted, which fails every later one in the
#: process: a worker is retired *after* a job in which such an area did not pass cleanly (a failed clause, an
#: advisory, an error), and the next job gets a fresh one. On TensorFlow only (:func:`_retires`).
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

    def to_json(self, **more) -> str:
        return json.dumps({**dataclasses.asdict(self), **more})


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
    debug = os.environ.get("MUTANTS_DEBUG")
    os.dup2(2 if debug else sink, 1)  # pytest's terminal output must not mix in
    if not debug:
        os.dup2(sink, 2)
    sys.stdout = os.fdopen(1, "w", buffering=1, closefd=False)
    sys.stderr = os.fdopen(2, "w", buffering=1, closefd=False)
    import tensorflow  # noqa: F401 - pay the import once, before the first job

    try:  # the distribution clauses need the CPU split before TensorFlow's runtime starts (conftest does it too)
        from spec_tests.devices import split_cpu
    except ImportError:
        pass
    else:
        split_cpu()
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
        clause_log, resume = fields.pop("clause_log", ""), fields.pop("resume", None)
        job = Job(**{**fields, "areas": tuple(fields["areas"]), "extra_args": tuple(fields.get("extra_args", ()))})
        result = run(job.spec, job.areas, job.profile, job.first_failure, basetemp=basetemp,
                     extra_args=job.extra_args, clause_log=clause_log, resume=resume)
        protocol.write(json.dumps(result.to_dict()) + "\n")
    return 0


class _Worker:
    """One worker process. ``died``: why it gave no answer to the last job (empty while it is well)."""

    def __init__(self, env: dict):
        try:
            self.proc = launcher.start(launcher.python_command("module", "spec_tests.harness.runs", "--worker"), env,
                                      cwd=PACKAGE_PARENT)
        except OSError as exc:
            raise OSError(f"could not start {launcher.child_python()}: {exc}") from exc
        self.jobs_done = 0
        if not self.proc.stdout.readline():
            raise OSError(f"the worker died while starting ({how_it_ended(self.proc.wait())}); rerun with "
                          "MUTANTS_DEBUG=1 to see its stderr")

    def run(self, job: Job, timeout: float | None, clause_log: str, resume: dict | None) -> RunResult | str:
        """The job's result, or why the worker gave none (it was killed or died)."""
        self.proc.stdin.write(job.to_json(clause_log=clause_log, resume=resume) + "\n")
        self.proc.stdin.flush()
        if timeout and not select.select([self.proc.stdout], [], [], timeout)[0]:
            self.proc.kill()
            self.proc.wait()
            return f"killed after {timeout:.0f} s (MUTANTS_JOB_TIMEOUT)"
        line = self.proc.stdout.readline()
        if not line:
            return how_it_ended(self.proc.wait())
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
    """``size`` worker processes, each running queued jobs one after another; ``submit`` returns a Future.

    ``paths``: more folders the workers append to their ``sys.path`` (mutation testing: the original layer's
    folder, for the copies' neighbours). A worker that cannot start, dies or runs past ``timeout`` in a job gives
    that job a result whose ``error`` says so, or, when it died in a clause, resumes the job in a new worker
    without that clause (failed, :class:`ProcessDied`); the pool carries on with a new worker.
    """

    def __init__(self, size: int | None = None, recycle_after: int = 40, timeout: float | None = None, paths=()):
        self.size = max(1, size or default_workers())
        self.recycle_after = recycle_after
        self.timeout = timeout if timeout is not None else float(os.environ.get("MUTANTS_JOB_TIMEOUT", "600"))
        self.env = launcher.child_environment({"TF_CPP_MIN_LOG_LEVEL": os.environ.get("TF_CPP_MIN_LOG_LEVEL", "2")},
                                     paths=paths)
        self._queue: queue.Queue = queue.Queue()
        self._threads = [threading.Thread(target=self._serve, daemon=True) for _ in range(self.size)]
        self._closed = False
        self._workers: dict[int, _Worker] = {}  # each serving thread's current worker (terminate kills them)
        self._logs = Path(tempfile.mkdtemp(prefix="layer-spec-pool-"))
        for thread in self._threads:
            thread.start()

    def submit(self, job: Job) -> concurrent.futures.Future:
        future: concurrent.futures.Future = concurrent.futures.Future()
        self._queue.put((job, future))
        return future

    def _worker(self, worker: _Worker | None) -> _Worker:
        if worker is None or worker.proc.poll() is not None or worker.jobs_done >= self.recycle_after:
            if worker is not None:
                worker.close()
            worker = _Worker(self.env)
            self._workers[threading.get_ident()] = worker
        return worker

    def _run(self, job: Job, worker: _Worker | None) -> tuple[RunResult, _Worker | None]:
        """The job's result (resumed after each crash in a clause) and the worker left to serve the next one."""
        log = self._logs / f"{threading.get_ident()}.jsonl"
        log.unlink(missing_ok=True)
        crashed: dict = {}
        started = time.perf_counter()
        while True:
            try:
                worker = self._worker(worker)
            except OSError as exc:
                return _failed_job(job, f"the worker could not run: {exc}", time.perf_counter() - started), None
            answer = worker.run(job, self.timeout, str(log), resume_data(log, crashed) if crashed else None)
            if isinstance(answer, RunResult):
                return answer, worker
            worker.close()
            worker = None
            how = f"the worker died ({answer})" if not answer.startswith("killed") else f"the worker was {answer}"
            if answer.startswith("killed") or resume_after(log, crashed, answer) is None:
                return _failed_job(job, f"{how} while running {job.spec} on {', '.join(job.areas)}: no result",
                                   time.perf_counter() - started), None

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
                result, worker = self._run(job, worker)
                if worker is not None and _retires(job, result):
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
        shutil.rmtree(self._logs, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def default_workers() -> int:
    """``MUTANTS_WORKERS`` if set, else one per core, at most 2 (this machine has 2 cores)."""
    if os.environ.get("MUTANTS_WORKERS"):
        return max(1, int(os.environ["MUTANTS_WORKERS"]))
    return max(1, min(2, os.cpu_count() or 1))




if __name__ == "__main__":  # a worker: launcher.python_command("module", "spec_tests.harness.runs", "--worker")
    from spec_tests.harness.runs import worker_main as _worker_main

    if sys.argv[1:] != ["--worker"]:
        sys.exit("usage: python -m spec_tests.harness.runs --worker (a pool worker, started by WorkerPool)")
    sys.exit(_worker_main())
