"""Isolation: spec clauses pass in random order, write nothing outside pytest's ``tmp_path``, and one layer's
distributed steps leave nothing behind that fails another's.

A subset of the spec runs in a fresh process under pytest-randomly with two different seeds, from an
empty working directory, with ``HOME`` and ``TMPDIR`` pointed at empty folders and ``--basetemp`` at a
folder of its own. Afterwards the working directory and ``TMPDIR`` must still be empty, and ``HOME`` may
hold only what importing Keras and its dependencies writes there (``~/.keras/keras.json``, caches).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from spec_tests.backend import BACKEND
from tests.support import REPO, run_spec, tail
from tests.tiers import FULL

pytestmark = FULL  # the full tier (tests/tiers.py): two runs of three spec areas in new processes, in random order

#: Spec modules of the subset: the lazy-build clauses, the bad-input table, and the area that writes files.
SUBSET = ("spec_tests.test_build", "spec_tests.test_bad_input", "spec_tests.test_damaged_files")
#: What importing Keras (``~/.keras/keras.json``, written when missing) and matplotlib (its font cache) leave in HOME.
IMPORT_SIDE_EFFECTS = (".keras/keras.json", ".cache/", ".config/matplotlib/")
#: What TensorFlow's autograph leaves in TMPDIR (Keras 2 autographs ``call``): it writes each converted function to a
#: temporary module, imports it and removes it, and Python caches the module's bytecode beside it unless
#: ``PYTHONDONTWRITEBYTECODE`` is set (the project's VM sets it; a user's machine, CI's sessions and GitHub's runners
#: do not).
AUTOGRAPH_SIDE_EFFECTS = ("__pycache__/__autograph_generated_file",)
_SCRUBBED_ENV = ("PYTEST_ADDOPTS", "PYTEST_XDIST_WORKER", "PYTEST_XDIST_WORKER_COUNT", "PYTEST_CURRENT_TEST",
                 "LAYER_SPEC_IMPL", "LAYER_SPEC_PROFILE", "KERAS_HOME")


def _files_under(folder: Path) -> list[str]:
    return sorted(str(path.relative_to(folder)) for path in folder.rglob("*") if path.is_file())


def _run_in_random_order(seed: int, tmp_path: Path) -> tuple[subprocess.CompletedProcess, dict[str, Path]]:
    places = {name: tmp_path / name for name in ("cwd", "home", "tmpdir", "basetemp")}
    for name in ("cwd", "home", "tmpdir"):
        places[name].mkdir()
    env = {key: value for key, value in os.environ.items() if key not in _SCRUBBED_ENV}
    env.update(HOME=str(places["home"]), TMPDIR=str(places["tmpdir"]),
               MPLCONFIGDIR=str(places["home"] / ".config/matplotlib"))
    command = [sys.executable, "-m", "pytest", "-p", "randomly", f"--randomly-seed={seed}", "-p", "no:cacheprovider",
               f"--basetemp={places['basetemp']}", "-rfE", "--pyargs", *SUBSET]
    proc = subprocess.run(command, cwd=places["cwd"], env=env, capture_output=True, text=True, timeout=600)
    proc.output = proc.stdout + proc.stderr
    return proc, places


@pytest.mark.parametrize("seed", [20240611, 7])
def test_subset_passes_in_random_order_and_writes_only_under_tmp_path(seed, tmp_path):
    """With pytest-randomly's seed ``seed`` the subset is green, and nothing is written outside ``--basetemp``."""
    proc, places = _run_in_random_order(seed, tmp_path)
    assert f"randomly-seed={seed}" in proc.output, (
        "pytest-randomly did not shuffle the run (is it installed?); last lines:\n" + tail(proc.output)
    )
    assert proc.returncode == 0, (
        f"the subset fails in the random order of seed {seed} (rerun: python -m pytest -p randomly "
        f"--randomly-seed={seed} --pyargs {' '.join(SUBSET)}); a clause depends on another's state:\n"
        + tail(proc.output, 80)
    )
    written = {
        "the working directory": _files_under(places["cwd"]),
        "TMPDIR": [f for f in _files_under(places["tmpdir"]) if not f.startswith(AUTOGRAPH_SIDE_EFFECTS)],
        "HOME": [f for f in _files_under(places["home"]) if not f.startswith(IMPORT_SIDE_EFFECTS)],
    }
    leaks = {where: files for where, files in written.items() if files}
    assert not leaks, (
        f"clauses wrote files outside tmp_path: {leaks}; write only under the tmp_path fixture "
        "(tmp_path_factory for module-scoped fixtures)"
    )


#: A layer with a third trainable variable (its collective all-reduces have other shapes than a Dense's), then
#: the reference, in one process.
SHARED_PROCESS_IMPLS = ("mutants.trainable_variables:LearnableOutputScale", "layers:MyDenseLayer")


def test_distributed_steps_of_one_layer_leave_nothing_behind_for_the_next(tmp_path):
    """The distribution area passes for two layers whose replicas all-reduce different shapes, in one process."""
    if BACKEND != "tensorflow":
        pytest.skip(f"collective keys are TensorFlow's (MirroredStrategy); this run's backend is {BACKEND}")
    impls = [arg for spec in SHARED_PROCESS_IMPLS for arg in ("--impl", spec)]
    proc = run_spec(*impls, "spec_tests.test_distribution", "-q", cwd=tmp_path, env={"PYTHONPATH": str(REPO)})
    assert proc.returncode == 0, (
        "expected every distribution clause to pass for each of " + ", ".join(SHARED_PROCESS_IMPLS) + "; a "
        "MirroredStrategy that reuses an earlier one's collective keys fails with 'Shape mismatch in the "
        "collective instance' (spec_tests/backend.py: _mirrored_strategy gives each strategy keys of its own):\n"
        + tail(proc.output))
