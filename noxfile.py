"""The test matrix: one nox session per Keras generation and backend, each in a fresh venv of its own.

``nox -s keras3_tensorflow`` (or any other session) runs one leg alone; ``nox`` runs all four, one after another;
``.ci/run`` runs them, two side by side (docs/testing.md). Each session installs the package with the README's
extras (``pip install -e ".[test,legacy,jax]"``) into its own venv, so every leg is an environment a user could
install: no venv sees another. Each command is the words a user types; the README's quick start is the first two
commands of ``keras3_tensorflow`` (``tests/test_layout.py`` checks that they agree). A command that fails, or that
collects no test (pytest's exit status 5), fails its session.

Venvs are made by uv (``pip install nox uv``), which installs TensorFlow from its cache in seconds; torch goes
through pip (``python -m pip install torch==2.13.0``): pip reads this machine's pip configuration, which offers
the CPU build of torch, where uv would fetch the default build with its CUDA libraries.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

import nox

nox.options.default_venv_backend = "uv"
nox.options.error_on_missing_interpreters = True
nox.options.sessions = ["keras3_tensorflow", "keras3_jax", "keras3_torch", "keras2"]

PYTHON = "3.11"
#: Every venv is seeded with pip, as the README's `python3.11 -m venv` is: the wheel workflow test builds and installs
#: with `python -m pip`, and keras3_torch installs torch with it.
VENV = ["--seed"]
#: The README's install command, in a session's venv (the quick start: ``pip install -e ".[test,legacy,jax]"``).
INSTALL = ("-e", ".[test,legacy,jax]")
#: The README's quick start, the words a user types after installing: the spec on the reference layer, then the
#: project's default tier.
QUICK_START = (("pytest",), ("pytest", "tests"))
#: Two pytest-xdist workers for the steps with many tests that each wait on one process (CI has two cores).
XDIST = ("-n", "2")
#: The benchmarks, once each, untimed: they must run, their numbers are not measured here.
BENCHMARKS_UNTIMED = ("pytest", "-p", "no:cacheprovider", "--benchmark-disable", "-m", "spec_benchmark", "-q")
#: The spec on the layer written in keras.ops (the reference layer uses TensorFlow ops, so it runs on TensorFlow
#: only).
OPS_DENSE = ("pytest", "-p", "no:cacheprovider", "--impl", "layers:OpsDense")
#: The pinned torch of the torch leg: its CPU build is 895 MB, the CUDA build several GB.
TORCH = "torch==2.13.0"
#: The third-party layers tests/adapters/ declares (docs/forward-contract.md), without their dependencies, whose
#: pins clash with TensorFlow's (qkeras-v3, tensorflow-model-optimization) or with numpy 2 (larq): Keras 3's, then
#: legacy Keras 2's. Only the full tier's tests/test_forward_contract.py uses them; elsewhere they are skipped.
KERAS3_ADAPTED = ("--no-deps", "qkeras-v3==1.2.1", "networkx")
KERAS2_ADAPTED = ("--no-deps", "larq==0.14.0", "terminaltables", "tensorflow-model-optimization==0.8.1", "dm-tree",
                  "mock")

KERAS3_TENSORFLOW = {"KERAS_BACKEND": "tensorflow", "TF_USE_LEGACY_KERAS": None}
KERAS3_JAX = {"KERAS_BACKEND": "jax", "TF_USE_LEGACY_KERAS": None}
KERAS3_TORCH = {"KERAS_BACKEND": "torch", "TF_USE_LEGACY_KERAS": None}
KERAS2 = {"TF_USE_LEGACY_KERAS": "1", "KERAS_BACKEND": None}

_BUILD_LOCK = Path(__file__).with_name(".nox") / "install.lock"
#: Whether the sessions' processes may cache bytecode (``.ci/run`` unsets ``PYTHONDONTWRITEBYTECODE``, which the
#: project's VM sets in every shell).
WRITES_BYTECODE = not os.environ.get("PYTHONDONTWRITEBYTECODE")
#: uv, unlike pip, installs without compiling bytecode. Where processes may write it, the first one to import a module
#: compiles it once, and only the modules some process imports: ``uv pip install`` of the README's extras took 23 s of
#: CPU compiling everything against 3 s without, and a first ``import tensorflow, keras, jax`` 10 s against 5 s
#: (docs/testing.md). Where ``PYTHONDONTWRITEBYTECODE`` is set, no process ever writes it, so every process that
#: imports TensorFlow would compile it again from source (13 s against 5 s; the tests start hundreds of them): there
#: it is compiled once at install.
COMPILE_BYTECODE = {} if WRITES_BYTECODE else {"UV_COMPILE_BYTECODE": "1"}
#: pip compiles every module of torch at install (895 MB of wheel); the torch session imports a small part of it.
TORCH_COMPILE = ("--no-compile",) if WRITES_BYTECODE else ()


def _install(session: nox.Session) -> None:
    """The README's install command into this session's venv. An editable install builds in the checkout (the
    egg-info lands at its root), so two sessions started side by side take turns here."""
    _BUILD_LOCK.parent.mkdir(exist_ok=True)
    with _BUILD_LOCK.open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        session.install(*INSTALL, env=COMPILE_BYTECODE)


@nox.session(python=PYTHON, venv_params=VENV)
def keras3_tensorflow(session: nox.Session) -> None:
    """Keras 3 on TensorFlow: the README's quick start as written, the benchmarks once untimed, then the full tier."""
    _install(session)
    for command in QUICK_START:
        session.run(*command, env=KERAS3_TENSORFLOW)
    session.run(*BENCHMARKS_UNTIMED, env=KERAS3_TENSORFLOW)
    session.install(*KERAS3_ADAPTED, env=COMPILE_BYTECODE)
    session.run("pytest", "tests", "--full", "-m", "full", *XDIST, env=KERAS3_TENSORFLOW)


@nox.session(python=PYTHON, venv_params=VENV)
def keras3_jax(session: nox.Session) -> None:
    """Keras 3 on JAX: OpsDense conforms; Keras's Dense passes every clause, every keras.ops mutant is rejected and
    every keras.ops correct layer conforms."""
    _install(session)
    session.run(*OPS_DENSE, env=KERAS3_JAX)
    # No xdist: nearly every case is a job of the pool, whose two workers (``--full``) take them all from the first;
    # two xdist workers would each import TensorFlow and JAX, and keep a worker of their own, for no more cores.
    session.run("pytest", "tests/test_honesty.py", "tests/test_mutants.py", "tests/test_correct_layers.py", "--full",
                env=KERAS3_JAX)


@nox.session(python=PYTHON, venv_params=VENV)
def keras3_torch(session: nox.Session) -> None:
    """Keras 3 on torch (the CPU build of torch 2.13.0): OpsDense conforms."""
    _install(session)
    session.run("python", "-m", "pip", "install", "--quiet", *TORCH_COMPILE, TORCH)
    session.run(*OPS_DENSE, env=KERAS3_TORCH)


@nox.session(python=PYTHON, venv_params=VENV)
def keras2(session: nox.Session) -> None:
    """Legacy Keras 2 (tf-keras): the reference layer conforms; then both tiers in one run (the whole zoo with its
    Keras 2 mutants, every correct layer with the Keras 2 ones, the alternatives...), but the wheel workflow and the
    benchmark calibration, which do not depend on the generation and run in keras3_tensorflow."""
    _install(session)
    session.install(*KERAS2_ADAPTED, env=COMPILE_BYTECODE)
    session.run("pytest", env=KERAS2)
    session.run("pytest", "tests", "--full", *XDIST, "--ignore=tests/test_workflow.py",
                "--ignore=tests/test_bench_calibration.py", env=KERAS2)
