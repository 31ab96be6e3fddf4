"""The launcher: every run of the spec in another process, and every in-process ``pytest.main``, starts here.

**One rule for every child process** (:func:`python_command`, :func:`child_environment`):

* it runs ``python -P`` (Python 3.11's safe path: neither the current folder nor a script's folder goes ahead of
  the standard library) and starts with a few lines of this module's (:data:`BOOTSTRAP`: ``python -P -c BOOTSTRAP
  pytest ARGS`` or ``module NAME ARGS``);
* ``PYTHONPATH`` holds the folder of the ``spec_tests`` package only, and only when a plain interpreter cannot
  import the package (a checkout that is not installed);
* every other place the parent imports from (its ``sys.path``, its current folder) goes in
  ``LAYER_SPEC_IMPORT_PATH``, which the child *appends* to its ``sys.path`` before anything else
  (:data:`BOOTSTRAP`): a ``platform.py`` or ``types.py`` beside a layer or in the current folder never
  shadows the standard library, and ``mutants.bias:BiasNeverAdded`` still imports from a checkout's root. A file
  implementation is imported the same way in both (``impls.load_impl``: by its path, its folder appended);
* the variables of an outer pytest run (``PYTEST_ADDOPTS``, xdist's) and the implementation's
  (``LAYER_SPEC_IMPL``, ``LAYER_SPEC_PROFILE``) are dropped: a child gets what it runs on its command line;
* it has a time limit (``LAYER_SPEC_CHILD_TIMEOUT``, default :data:`CHILD_TIMEOUT_S`), and a child that cannot
  start, dies, or runs past it ends in a :class:`Child` whose ``unknown`` says why: every caller reports that as
  "could not run", never as evidence for or against the layer.

A child's roles: ``pytest ARGS`` (``pytest.main``, with this module as a plugin for the clause log below, when
asked) and ``module NAME ARGS`` (run a module as ``__main__``: a pool worker, parity's stages).

**The jobs, in this order below:**

1. *The rule* (:func:`child_environment`, :func:`python_command`) and the starts: :func:`run_child` (run to the end,
   an explicit :class:`Child`), :func:`start` (a pool worker, which talks over its stdin and stdout), and
   :func:`run_pytest_here` (``pytest.main`` here: :mod:`~spec_tests.harness.runs`, ``repro``).
2. *A clause that crashes the process* (:class:`ClauseLog`): the child writes one JSON line per clause event
   (started, each phase's report, finished, the run's end). When the child dies, the clause that started and did
   not finish is the one it died in; a new child runs the rest, replays the finished clauses' reports and fails the
   crashed one (:class:`ProcessDied`) through pytest's own report hooks, so its one summary and verdict cover the
   whole run. ``layer-spec check`` does this (:func:`check`), and so does the pool (:mod:`~spec_tests.harness.runs`).
3. *``layer-spec check``'s child*: its pytest arguments (:func:`check_args`) and the run (:func:`check`).

This module imports nothing of the harness: the harness's modules import it (attribution, repro, runs, cli, parity,
bench), so it sits below them all. Other modules that mention ``subprocess``, ``sys.executable`` or ``pytest.main``
(``grep -rn "subprocess\\|sys.executable\\|pytest.main" spec_tests``): none.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import pytest

from spec_tests import environment

# Nothing of the harness but the environment's names, even inside a function: a child imports this module before
# pytest registers the plugin modules (which cannot be rewritten once imported: PytestAssertRewriteWarning), and the
# harness's modules import this one (attribution, repro, runs), never the other way round.
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


def child_python() -> str:
    """The interpreter of every child: this one, or ``LAYER_SPEC_CHILD_PYTHON`` (the project's tests name a missing
    one to make a start fail)."""
    return os.environ.get(environment.CHILD_PYTHON) or sys.executable


#: A child's first lines (``python -P -c BOOTSTRAP ROLE ARGS``): append the parent's import locations to ``sys.path``,
#: then run pytest (``pytest``) or a module as ``__main__`` (``module NAME``). Nothing of ``spec_tests`` is imported
#: before pytest: pytest cannot rewrite a module imported before it marks it (``PytestAssertRewriteWarning``), and
#: loads this module itself (``-p``) for the clause log.
BOOTSTRAP = "\n".join([
    "import os, runpy, sys",
    f"sys.path += [p for p in dict.fromkeys(os.environ.pop({environment.IMPORT_PATH!r}, '').split(os.pathsep))"
    " if p and p not in sys.path]",
    "role = sys.argv.pop(1)",
    "if role == 'pytest':",
    "    import pytest",
    "    sys.exit(pytest.main())",
    "del sys.argv[0]",
    "runpy.run_module(sys.argv[0], run_name='__main__', alter_sys=True)",
])


def python_command(role: str, *args: str) -> list[str]:
    """How every child starts: ``python -P -c BOOTSTRAP pytest -p spec_tests.harness.launcher ARGS`` (pytest, with
    the clause log when asked) or ``python -P -c BOOTSTRAP module NAME ARGS`` (a pool worker, parity's stages)."""
    if role == "pytest":
        return [child_python(), "-P", "-c", BOOTSTRAP, role, "-p", "spec_tests.harness.launcher", *args]
    if role == "module" and args:
        return [child_python(), "-P", "-c", BOOTSTRAP, role, *args]
    raise ValueError(f"a child's role is pytest or module NAME, not {role!r}")


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


def start(command: list[str], env: dict, cwd=None) -> subprocess.Popen:
    """Start a child that talks over its stdin and stdout, one line at a time (a pool worker); its stderr goes to
    /dev/null, or through with ``MUTANTS_DEBUG=1``. Raises OSError when it cannot start."""
    return subprocess.Popen(command, cwd=cwd, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=None if os.environ.get("MUTANTS_DEBUG") else subprocess.DEVNULL, text=True,
                            bufsize=1)


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


def run_pytest_here(args: list[str], plugins=()) -> int:
    """``pytest.main`` in this process (``repro`` collects a clause's cases with it)."""
    return int(pytest.main(list(args), plugins=list(plugins)))


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


# =========================================================================== layer-spec check's child


def check_args(args, extra: list[str]) -> list[str]:
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


# =========================================================================== in the child


def pytest_configure(config):
    """In a child started with ``-p spec_tests.harness.launcher``: the clause log, and the resumed run, when asked."""
    log, resume = os.environ.pop(environment.CLAUSE_LOG, ""), os.environ.pop(environment.RESUME, "")
    if log or resume:
        data = json.loads(Path(resume).read_text(encoding="utf-8")) if resume else None
        config.pluginmanager.register(ClauseLog(log, data), "layer-spec-clause-log")
