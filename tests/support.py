"""Shared helpers for the project's own tests: run the spec in a fresh Python process."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from spec_tests.generation import LEGACY

REPO = Path(__file__).resolve().parents[1]
DENSE_SPEC = "tf_keras.layers:Dense" if LEGACY else "keras.layers:Dense"
#: The mark of a test of the harness's own mechanics that Keras's generation does not change (a usage error, a path
#: outside the checkout, xdist, the time limit): it runs on Keras 3 and is skipped on legacy Keras 2, whose nox
#: session checks what the generation does change (the verdicts, the causes, the capabilities, isolation) and
#: would pay a new TensorFlow process for each of these again (docs/testing.md).
MECHANICS = pytest.mark.skipif(LEGACY, reason="the harness's mechanics, the same on both generations: run on Keras 3")


def run_spec(*args: str, cwd: Path | None = None, env: dict | None = None, timeout: int = 600) -> subprocess.CompletedProcess:
    """``python -m pytest --pyargs <args>`` (``spec_tests`` unless a target is given) in a new process; returns it with ``.output`` (stdout+stderr)."""
    full_env = dict(os.environ)
    full_env.pop("PYTEST_ADDOPTS", None)
    full_env.pop("PYTEST_XDIST_WORKER", None)
    full_env.update(env or {})
    full_env = {key: value for key, value in full_env.items() if value is not None}  # None: unset it
    command = [sys.executable, "-m", "pytest", "-p", "no:randomly", "-p", "no:cacheprovider", "--pyargs", *args]
    if not any(a.startswith("spec_tests") or a.endswith(".py") for a in args):
        command.append("spec_tests")
    proc = subprocess.run(
        command, cwd=str(cwd or REPO), env=full_env, capture_output=True, text=True, timeout=timeout
    )
    proc.output = proc.stdout + proc.stderr
    return proc


def tail(text: str, lines: int = 60) -> str:
    return "\n".join(text.splitlines()[-lines:])


def folder_with(parent: Path, name: str, files: dict) -> Path:
    """A new folder ``parent/name`` holding ``files`` (file name -> text)."""
    folder = parent / name
    folder.mkdir()
    for file_name, text in files.items():
        (folder / file_name).write_text(text)
    return folder
