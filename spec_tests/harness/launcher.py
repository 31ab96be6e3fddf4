"""The launcher: every run of the spec in another process, and every in-process ``pytest.main``, starts here.

**One rule for every child process** (:func:`python_command`, :func:`child_environment`):

* it runs ``python -P`` (Python 3.11's safe path: neither the current folder nor a script's folder goes ahead of
  the standard library) and enters through this module: ``python -P -m spec_tests.harness.launcher ROLE ...``;
* ``PYTHONPATH`` holds the folder of the ``spec_tests`` package only, and only when a plain interpreter cannot
  import the package (a checkout that is not installed);
* every other place the parent imports from (its ``sys.path``, its current folder) goes in
  ``LAYER_SPEC_IMPORT_PATH``, which the child *appends* to its ``sys.path`` before anything else
  (:func:`adopt_import_path`): a ``platform.py`` or ``types.py`` beside a layer or in the current folder never
  shadows the standard library, and ``mutants.bias:BiasNeverAdded`` still imports from a checkout's root. A file
  implementation is imported the same way in both (``impls.load_impl``: by its path, its folder appended);
* the variables of an outer pytest run (``PYTEST_ADDOPTS``, xdist's) and the implementation's
  (``LAYER_SPEC_IMPL``, ``LAYER_SPEC_PROFILE``) are dropped: a child gets what it runs on its command line;
* it has a time limit (``LAYER_SPEC_CHILD_TIMEOUT``, default :data:`CHILD_TIMEOUT_S`), and a child that cannot
  start, dies, or runs past it ends in a :class:`Child` whose ``unknown`` says why: every caller reports that as
  "could not run", never as evidence for or against the layer.

Roles of the child entry point (:func:`main`): ``pytest ARGS`` (``pytest.main``, with the clause log below when
asked), ``worker`` (a pool worker), ``module NAME ARGS`` (run a module as ``__main__``: parity's stages).

**The jobs, in this order below:**

1. *In-process runs* (:func:`run`): ``pytest.main`` on chosen areas, one :class:`RunResult` back; the in-process
   API, the pool's workers and ``repro`` (:func:`pytest_in_process`) use it.
2. *The pool* (:class:`WorkerPool`): workers that import TensorFlow once and serve job after job (the mutant zoo,
   the kill matrix, mutation testing). A worker that dies in a job is replaced; the job resumes in the new worker
   without the clause it died in, which fails with the signal (:class:`ProcessDied`).
3. *A clause that crashes the process* (:class:`ClauseLog`): the child writes one JSON line per clause event
   (started, each phase's report, finished). When the child dies, the clause that started and did not finish is
   the one it died in; a new child runs the rest, replays the finished clauses' reports and fails the crashed one
   through pytest's own report hooks, so its one summary and verdict cover the whole run
   (:func:`check`, ``layer-spec check``; the pool does the same).
4. *``layer-spec check``'s child*: its pytest arguments (:func:`pytest_args`) and the run (:func:`check`).

Other modules that still mention ``subprocess`` or ``sys.executable`` (``grep -rn "subprocess\\|sys.executable\\|
pytest.main" spec_tests``): none.
"""

from __future__ import annotations

import atexit
import concurrent.futures
import dataclasses
import functools
import gc
import json
import os
import queue
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from spec_tests import environment

# Nothing of the harness's plugin modules at the top: a child imports this module before pytest registers them,
# and pytest cannot rewrite a module imported earlier (PytestAssertRewriteWarning).
if TYPE_CHECKING:
    from spec_tests.harness.results import RunResult

#: The ``spec_tests`` package's folder, and the folder that holds it: the rootdir of every run, so ids read
#: ``spec_tests/...``.
SPEC_DIR = Path(__file__).resolve().parent.parent
PACKAGE_PARENT = SPEC_DIR.parent
#: The default time limit of a child process, in seconds (``LAYER_SPEC_CHILD_TIMEOUT`` overrides it): generous, a
#: whole spec run on two busy cores takes minutes; a clause's own limit is pytest-timeout's.
CHILD_TIMEOUT_S = 3600.0
#: Environment a child must not inherit: an outer pytest run's, and the implementation's (on its command line).
DROPPED_ENV = ("PYTEST_ADDOPTS", "PYTEST_CURRENT_TEST", "PYTEST_XDIST_WORKER", "PYTEST_XDIST_WORKER_COUNT",
               "PYTEST_XDIST_TESTRUNUID", environment.IMPL, environment.PROFILE, environment.CLAUSE_LOG,
               environment.RESUME, environment.IMPORT_PATH)
#: At most this many crashes in one run are resumed from; then the run ends without a verdict.
MAX_CRASHES = 20


# =========================================================================== one rule for every child


def child_timeout() -> float:
    return float(os.environ.get(environment.CHILD_TIMEOUT) or CHILD_TIMEOUT_S)


def python_command(role: str, *args: str) -> list[str]:
    """``python -P -m spec_tests.harness.launcher ROLE ARGS``: how every child starts
    (``LAYER_SPEC_CHILD_PYTHON``: another interpreter; the project's tests use it to make a start fail)."""
    return [os.environ.get(environment.CHILD_PYTHON) or sys.executable, "-P", "-m", __name__, role, *args]


@functools.cache
def _plain_python_imports_spec() -> bool:
    """Whether ``python -P`` without ``PYTHONPATH`` imports this very ``spec_tests`` (it is installed)."""
    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    try:
        done = subprocess.run([sys.executable, "-P", "-c", "import spec_tests; print(spec_tests.__file__)"],
                              env=env, cwd=tempfile.gettempdir(), capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return False
    seen = done.stdout.strip()
    return bool(seen) and Path(seen).resolve() == (SPEC_DIR / "__init__.py").resolve()


def import_locations(extra=()) -> list[str]:
    """Where this process imports from, for a child to append: its ``sys.path`` (``''``: the current folder) and
    the current folder, then ``extra``."""
    cwd = os.getcwd()
    paths = [os.path.abspath(path) if path else cwd for path in sys.path] + [cwd] + [str(p) for p in extra]
    return [path for path in dict.fromkeys(paths) if os.path.isdir(path)]


def child_environment(set_env: dict | None = None, drop=(), paths=()) -> dict:
    """The environment of every child: this one less :data:`DROPPED_ENV` (and ``drop``), ``PYTHONPATH`` only for
    ``spec_tests`` itself, this process's import locations (and ``paths``) to append, plus ``set_env``."""
    env = {key: value for key, value in os.environ.items() if key not in (*DROPPED_ENV, *drop, "PYTHONPATH")}
    if not _plain_python_imports_spec():
        env["PYTHONPATH"] = str(PACKAGE_PARENT)
    env[environment.IMPORT_PATH] = os.pathsep.join(import_locations(paths))
    env.update(set_env or {})
    return env


def adopt_import_path() -> None:
    """In a child, first thing: append the parent's import locations to ``sys.path`` (never ahead of the
    standard library)."""
    for path in os.environ.pop(environment.IMPORT_PATH, "").split(os.pathsep):
        if path and path not in sys.path:
            sys.path.append(path)


def how_it_ended(returncode: int) -> str:
    """``SIGABRT (signal 6)`` for a child killed by a signal, else ``exit code N``."""
    if returncode < 0:
        try:
            return f"{signal.Signals(-returncode).name} (signal {-returncode})"
        except ValueError:
            return f"signal {-returncode}"
    return f"exit code {returncode}"


@dataclasses.dataclass
class Child:
    """How a child process ended. ``unknown``: why it gave no answer (could not start, killed by a signal, ran past
    its time limit), empty when it exited by itself; ``output``: its stdout and stderr when captured."""

    returncode: int | None
    output: str = ""
    unknown: str = ""
    seconds: float = 0.0

    def tail(self, lines: int = 3) -> str:
        return " | ".join(self.output.strip().splitlines()[-lines:])


def run_child(command: list[str], env: dict, cwd=None, timeout: float | None = None, capture: bool = True,
              stderr_filter=None) -> Child:
    """Run ``command`` (from :func:`python_command`) to its end or its time limit; never raises for a child that
    cannot start, dies or hangs. ``capture``: keep its output (else it goes straight through, its stderr less
    the lines ``stderr_filter`` matches)."""
    timeout = child_timeout() if timeout is None else timeout
    started = time.perf_counter()
    try:
        child = subprocess.Popen(
            command, env=env, cwd=cwd, stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE if capture else None,
            stderr=subprocess.STDOUT if capture else (subprocess.PIPE if stderr_filter else None),
            text=True, errors="replace")
    except OSError as exc:
        return Child(None, unknown=f"could not start {command[0]}: {exc}")
    forward = None
    if not capture and stderr_filter is not None:
        def copy():
            for line in child.stderr:
                if not stderr_filter(line):
                    sys.stderr.write(line)
                    sys.stderr.flush()

        forward = threading.Thread(target=copy, daemon=True)
        forward.start()
    try:
        output, _ = child.communicate(timeout=timeout) if capture else (None, child.wait(timeout=timeout))
    except subprocess.TimeoutExpired:
        child.kill()
        output = child.communicate()[0] if capture else None
        return Child(child.returncode, output or "", f"killed after {timeout:.0f} s (the launcher's time limit, "
                     f"{environment.CHILD_TIMEOUT})", time.perf_counter() - started)
    except KeyboardInterrupt:  # the child had the signal too: let it print its summary, then stop it
        try:
            child.wait(timeout=30)
        except (subprocess.TimeoutExpired, KeyboardInterrupt):
            child.kill()
        raise
    finally:
        if forward is not None:
            forward.join(timeout=5)
    code = child.returncode
    unknown = f"the process died: {how_it_ended(code)}" if code < 0 else ""
    return Child(code, output or "", unknown, time.perf_counter() - started)


# =========================================================================== in-process runs


def pytest_in_process(args: list[str], plugins=()) -> int:
    """``pytest.main`` in this process (``repro`` collects a clause's cases with it)."""
    return int(pytest.main(list(args), plugins=list(plugins)))


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
        from spec_tests.harness.catalogue import area_of

        if area_of(item) in self.rejected:
            pytest.skip("area already rejected the implementation (first-failure mode)")

    def pytest_runtest_logreport(self, report):
        from spec_tests.harness.catalogue import area_of

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
        from spec_tests.harness.report import REPORTER

        reporter = session.config.pluginmanager.get_plugin(REPORTER)
        if reporter is not None and reporter.involved():
            self.result = reporter.result()


def forget_spec_modules() -> None:
    """Drop the spec modules and their conftest, so that the next run imports them afresh."""
    for name in list(sys.modules):
        if name == "spec_tests.conftest" or name.startswith("spec_tests.test_"):
            del sys.modules[name]


def _empty(spec: str, profile: str, error: str, seconds: float = 0.0) -> RunResult:
    from spec_tests.harness.results import RunResult

    return RunResult(implementation={"spec": spec, "class": "?", "file": "?"}, profile={"name": profile},
                     versions={}, error=error, seconds=seconds)


def run(spec: str, areas=(), profile: str = "dense", first_failure: bool = False, basetemp: Path | None = None,
        extra_args=(), clause_log: str = "", resume: dict | None = None) -> RunResult:
    """Run the spec's ``areas`` (default: every area) on the class ``spec`` names, in this process.

    Sound more than once per process: every ``pytest.main`` makes a new Config (the selection part resolves
    ``--impl`` from it) and the spec modules are forgotten before each run; TensorFlow is imported once.
    ``first_failure``: stop each area at its first failing clause. ``clause_log``/``resume``: :class:`ClauseLog`.
    """
    from spec_tests.harness.catalogue import spec_areas
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
        exit_code, error = pytest_in_process(args, plugins), None
    except BaseException as exc:  # noqa: BLE001 - a crashed run is a harness error, reported as such
        exit_code, error = None, f"pytest.main raised {type(exc).__name__}: {exc}"
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


# =========================================================================== a clause that crashes the process


class ProcessDied(Exception):
    """The failure of a clause the process died in (a segfault, ``os.abort()``): raised in a later process."""


class ClauseLog:
    """A pytest plugin: one JSON line per clause event to ``path`` (``{"start": id}``, ``{"report": ...}`` per
    phase, ``{"finish": id}``), written as it happens; and, from ``resume`` (what :func:`read_log` found after an
    earlier process died), the finished clauses' reports replayed and the crashed ones failed, each through
    pytest's report hooks, so the reporter, pytest's counts and the exit status cover the whole run."""

    def __init__(self, path: str = "", resume: dict | None = None):
        self.fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600) if path else None
        self.done: dict = (resume or {}).get("done", {})
        self.crashed: dict = (resume or {}).get("crashed", {})
        self.config = None

    def _write(self, record: dict) -> None:
        if self.fd is not None:
            os.write(self.fd, (json.dumps(record, default=str) + "\n").encode())

    def pytest_configure(self, config):
        self.config = config

    def pytest_unconfigure(self, config):
        if self.fd is not None:
            self._write({"end": True})  # the run finished: whatever its exit status, no clause killed it
            os.close(self.fd)
            self.fd = None

    def pytest_runtest_logstart(self, nodeid, location):
        self._write({"start": nodeid})

    def pytest_runtest_logreport(self, report):
        if self.fd is not None:
            self._write({"report": self.config.hook.pytest_report_to_serializable(config=self.config, report=report)})

    def pytest_runtest_logfinish(self, nodeid, location):
        self._write({"finish": nodeid})

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_protocol(self, item, nextitem):
        if item.nodeid not in self.done and item.nodeid not in self.crashed:
            return None
        ihook = item.ihook
        ihook.pytest_runtest_logstart(nodeid=item.nodeid, location=item.location)
        if item.nodeid in self.done:
            for data in self.done[item.nodeid]:
                report = self.config.hook.pytest_report_from_serializable(config=self.config, data=data)
                ihook.pytest_runtest_logreport(report=report)
        else:
            reason = self.crashed[item.nodeid]

            def died():
                raise ProcessDied(reason)

            call = pytest.CallInfo.from_call(died, when="call")
            ihook.pytest_runtest_logreport(report=ihook.pytest_runtest_makereport(item=item, call=call))
        ihook.pytest_runtest_logfinish(nodeid=item.nodeid, location=item.location)
        return True


def read_log(path) -> tuple[dict, str | None, bool]:
    """What a clause log holds: ({node id: its reports} of the finished clauses, the node id of the clause that
    started and did not finish, or None, whether the last run got to its end)."""
    done: dict = {}
    reports: dict = {}
    running, ended = None, False
    try:
        lines = Path(path).read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        lines = []
    for line in lines:
        try:
            record = json.loads(line)
        except ValueError:  # the last line of a process that died while writing it
            continue
        ended = "end" in record
        if "start" in record:
            running = record["start"]
            reports[running] = []
        elif "report" in record and running is not None:
            reports.setdefault(record["report"].get("nodeid", running), []).append(record["report"])
        elif "finish" in record:
            done[record["finish"]] = reports.pop(record["finish"], [])
            running = None
    return done, running, ended


def died_in(nodeid: str, how: str) -> str:
    return f"the process died in this clause: {how}; the other clauses ran in a new process"


def resume_after(log, crashed: dict, how: str) -> str | None:
    """After a process died: add the clause it died in to ``crashed`` and return its node id, or None when it
    died outside a clause, in a clause that already crashed once, or after :data:`MAX_CRASHES`."""
    _, running, _ = read_log(log)
    if running is None or running in crashed or len(crashed) >= MAX_CRASHES:
        return None
    crashed[running] = died_in(running, how)
    return running


def resume_data(log, crashed: dict) -> dict:
    done, _, _ = read_log(log)
    return {"done": {nodeid: reports for nodeid, reports in done.items() if nodeid not in crashed},
            "crashed": dict(crashed)}


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
    from spec_tests.harness.results import RunResult

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
        command = python_command("worker")
        try:
            self.proc = subprocess.Popen(
                command, cwd=str(PACKAGE_PARENT), env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                stderr=None if os.environ.get("MUTANTS_DEBUG") else subprocess.DEVNULL, text=True, bufsize=1)
        except OSError as exc:
            raise OSError(f"could not start {command[0]}: {exc}") from exc
        self.jobs_done = 0
        if not self.proc.stdout.readline():
            raise OSError(f"the worker died while starting ({how_it_ended(self.proc.wait())}); rerun with "
                          "MUTANTS_DEBUG=1 to see its stderr")

    def run(self, job: Job, timeout: float | None, clause_log: str, resume: dict | None) -> RunResult | str:
        """The job's result, or why the worker gave none (it was killed or died)."""
        from spec_tests.harness.results import RunResult

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
        self.env = child_environment({"TF_CPP_MIN_LOG_LEVEL": os.environ.get("TF_CPP_MIN_LOG_LEVEL", "2")},
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
            if not isinstance(answer, str):
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


# =========================================================================== layer-spec check's child


def pytest_args(args, extra: list[str]) -> list[str]:
    """The pytest arguments ``check`` runs (``args``: its parsed options).

    ``--rootdir`` is the folder that holds the ``spec_tests`` package, so clause ids read
    ``spec_tests/test_build.py::...`` wherever it is installed; pytest's cache stays in the current folder.
    """
    targets = [f"spec_tests.test_{area.removeprefix('test_')}" for area in args.area] or ["spec_tests"]
    command = ["--pyargs", *targets, "--rootdir", str(PACKAGE_PARENT),
               "-o", f"cache_dir={os.path.abspath('.pytest_cache')}"]
    for impl in args.impls:
        command += ["--impl", impl]
    if args.profile:
        command += ["--profile", args.profile]
    if getattr(args, "report", None):
        command += ["--spec-report", os.path.abspath(args.report)]
    if getattr(args, "xfail_file", None):
        command += ["--xfail-file", os.path.abspath(args.xfail_file)]
    if getattr(args, "xfail_write", None):
        command += ["--xfail-write", os.path.abspath(args.xfail_write)]
    if getattr(args, "strict", False):
        command.append("--spec-strict")
    for name in getattr(args, "cause", []):
        command += ["--spec-cause", name]
    if not getattr(args, "verbose", False):
        command += QUIET
    return command + list(extra)


#: What ``check`` adds to pytest's options unless ``-v``: no tracebacks and no per-test summary lines (the causes,
#: the table and the report say it all).
QUIET = ["--tb=no", "-rN"]


def check(args: list[str], env: dict, stderr_filter=None) -> int:
    """Run pytest with ``args`` in a child, its output straight through, and return its exit status. When the
    child dies in a clause (or runs past its time limit), a new child runs the clauses left and its one summary
    covers the whole run, the clause it died in failed with the signal; 3 (pytest's internal error) when it died
    outside a clause."""
    crashed: dict = {}
    with tempfile.TemporaryDirectory(prefix="layer-spec-check-") as tmp:
        log, resume = Path(tmp, "clauses.jsonl"), Path(tmp, "resume.json")
        while True:
            child_env = dict(env, **{environment.CLAUSE_LOG: str(log)})
            if crashed:
                resume.write_text(json.dumps(resume_data(log, crashed)), encoding="utf-8")
                child_env[environment.RESUME] = str(resume)
            child = run_child(python_command("pytest", *args), child_env, capture=False, stderr_filter=stderr_filter)
            if child.returncode is None:
                print(f"layer-spec: pytest could not run: {child.unknown}", file=sys.stderr)
                return 3
            _, running, ended = read_log(log)
            if not child.unknown and 0 <= child.returncode <= 5 and (ended or running is None):
                return child.returncode  # pytest's own exit status (a usage error ends before any clause)
            # Killed by a signal, by the time limit, or gone mid-clause (os._exit, pytest-timeout's thread method).
            how = child.unknown.removeprefix("the process died: ") if child.unknown else (
                f"it exited ({how_it_ended(child.returncode)}) without finishing the clause")
            nodeid = resume_after(log, crashed, how)
            if nodeid is None:
                print(f"layer-spec: the pytest process ended ({how}) outside any clause, or in the same clause again: "
                      "no verdict", file=sys.stderr)
                return 3
            print(f"\nlayer-spec: the process died in {nodeid} ({how}); the clauses left run in a new process, and "
                  "its summary covers the whole run", file=sys.stderr, flush=True)


# =========================================================================== the child's entry point


def main(argv: list[str]) -> int:
    """``python -P -m spec_tests.harness.launcher pytest ARGS | worker | module NAME ARGS``."""
    adopt_import_path()
    role, args = (argv[0], argv[1:]) if argv else ("", [])
    if role == "pytest":
        log, resume = os.environ.pop(environment.CLAUSE_LOG, ""), os.environ.pop(environment.RESUME, "")
        plugins = [ClauseLog(log, json.loads(Path(resume).read_text(encoding="utf-8")) if resume else None)] if (
            log or resume) else []
        return pytest_in_process(args, plugins)
    if role == "worker":
        return worker_main()
    if role == "module" and args:
        import runpy

        sys.argv = [args[0], *args[1:]]
        try:
            runpy.run_module(args[0], run_name="__main__", alter_sys=True)
        except SystemExit as exc:
            return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        return 0
    print("usage: python -P -m spec_tests.harness.launcher pytest ARGS | worker | module NAME ARGS", file=sys.stderr)
    return 4


if __name__ == "__main__":  # run through the module itself, not a second copy of it named __main__
    from spec_tests.harness.launcher import main as _main

    sys.exit(_main(sys.argv[1:]))
