"""The implementer's workflow, end to end, as a user in another project lives it.

A wheel of this package is built and installed into a fresh virtual environment
(its dependencies come from this one's site-packages), and every command runs
in an empty project folder outside this checkout: several layers named in that
project's ``pyproject.toml``, the in-process API, the baseline written with
``--xfail-write`` and passed with ``--xfail-file``, ``layer-spec diff``, a quiet
run that leaves nothing behind, the README's ``parametrize_with_clauses``
example, and a failed clause's reproduction run with plain ``python``.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import textwrap
from pathlib import Path

import pytest

from spec_tests.generation import LEGACY
from tests.support import REPO, folder_with, run_spec, tail
from tests.tiers import FULL

pytestmark = FULL  # the full tier (tests/tiers.py): a wheel built and installed in a fresh virtual environment: minutes

#: A dense layer that forgets its bias, written in the user's project (bias created, never added).
FORGETFUL = textwrap.dedent(
    """
    import tensorflow as tf

    from layers import MyDenseLayer


    class ForgetfulDense(MyDenseLayer):
        \"\"\"Creates a bias, and forgets to add it.\"\"\"

        def call(self, inputs):
            inputs = tf.cast(inputs, self.compute_dtype)
            outputs = tf.tensordot(inputs, tf.cast(self.kernel, self.compute_dtype), [[inputs.shape.rank - 1], [0]])
            return outputs if self.activation is None else self.activation(outputs)
    """
)
PYPROJECT = textwrap.dedent(
    """
    [tool.pytest.ini_options]
    layer_spec_impl = '''
        layers:MyDenseLayer
        my_layers.py:ForgetfulDense
    '''
    """
)
_SCRUBBED = ("PYTEST_ADDOPTS", "PYTEST_XDIST_WORKER", "PYTEST_XDIST_WORKER_COUNT", "PYTEST_CURRENT_TEST",
             "LAYER_SPEC_IMPL", "LAYER_SPEC_PROFILE", "LAYER_SPEC_STRICT", "PYTHONPATH")


def _build_and_install(root: Path) -> str:
    """A wheel of this checkout, built and installed into a new venv under ``root`` whose dependencies (TensorFlow,
    Keras, pytest...) come from this environment; its editable install does not. Returns the venv's site-packages."""
    root.mkdir(parents=True)
    source = root / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md", "layers", "spec_tests"):
        copy = shutil.copytree if (REPO / name).is_dir() else shutil.copy
        copy(REPO / name, source / name, **({"ignore": shutil.ignore_patterns("__pycache__")}
                                           if (REPO / name).is_dir() else {}))
    build = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w",
                            str(root / "dist"), str(source)], capture_output=True, text=True, timeout=600)
    assert build.returncode == 0, build.stdout + build.stderr
    wheel = next((root / "dist").glob("keras_dense_layer_spec-*.whl"))
    venv = root / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=300)
    python = venv / "bin" / "python"
    purelib = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                             capture_output=True, text=True, check=True).stdout.strip()
    Path(purelib, "layer_spec_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    install = subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "-q",
                              str(wheel)], capture_output=True, text=True, timeout=600)
    assert install.returncode == 0, install.stdout + install.stderr
    return purelib


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """A virtual environment with this package installed from a freshly built wheel: ``run(*argv, cwd=...)``.

    Built once per session: under pytest-xdist the workers share it (in the session's common temporary folder, one
    worker building while the others wait), rather than each worker that gets a test of this module building its
    own wheel and venv."""
    shared = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        shared = shared.parent  # the folder every worker's base temporary folder is in
    root = shared / "wheel"
    venv = root / "venv"
    python = venv / "bin" / "python"

    def run(*argv: str, cwd: Path, timeout: int = 900) -> subprocess.CompletedProcess:
        env = {key: value for key, value in os.environ.items() if key not in _SCRUBBED}
        env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
        proc = subprocess.run(list(argv), cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
        proc.output = proc.stdout + proc.stderr
        return proc

    run.python = str(python)
    with (shared / "wheel.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (root / "ready").exists():
            shutil.rmtree(root, ignore_errors=True)
            purelib = _build_and_install(root)
            where = run(run.python, "-c", "import spec_tests, layers; print(spec_tests.__file__, layers.__file__)",
                        cwd=root)
            # the wheel's modules, not the checkout's
            assert str(REPO) not in where.stdout and purelib in where.stdout, where.output
            (root / "ready").touch()
    return run


@pytest.fixture
def project(tmp_path):
    return folder_with(tmp_path, "project", {"pyproject.toml": PYPROJECT, "my_layers.py": FORGETFUL})


def _files(folder: Path) -> set[str]:
    return {str(path.relative_to(folder)) for path in folder.rglob("*")
            if path.is_file() and ".pytest_cache" not in path.parts and "__pycache__" not in path.parts}


def test_two_layers_from_pyproject_baseline_ratchet_diff_and_a_quiet_run(installed, project):
    """pyproject's ``layer_spec_impl`` names two layers: one ``pytest --pyargs spec_tests`` checks both, writes the
    baseline with ``--xfail-write`` (exit 1), passes with ``--xfail-file`` (exit 0), ``layer-spec diff`` reads the
    two reports, and the runs print no DeprecationWarning and leave only what was asked for."""
    before = _files(project)
    first = installed(installed.python, "-m", "pytest", "--pyargs", "spec_tests", "-p", "no:randomly",
                      "--xfail-write", "baseline.txt", "--spec-report", "old.json", cwd=project)
    assert first.returncode == 1, tail(first.output, 80)
    assert "layer-spec: [MyDenseLayer] impl layers:MyDenseLayer" in first.output, tail(first.output)
    assert re.search(r"layers:MyDenseLayer \(layers\.dense\.MyDenseLayer\), profile dense: CONFORMS", first.output)
    assert re.search(r"my_layers\.py:ForgetfulDense \(my_layers\.ForgetfulDense\), profile dense: DOES NOT CONFORM",
                     first.output), tail(first.output)
    assert "DeprecationWarning" not in first.output, tail(first.output)  # Keras's UserWarnings about the layer stay
    baseline = (project / "baseline.txt").read_text().splitlines()
    entries = [line for line in baseline if line.strip() and not line.startswith("#")]
    assert entries and all("[ForgetfulDense" in line and "  # " in line for line in entries), baseline[:6]

    second = installed(installed.python, "-m", "pytest", "--pyargs", "spec_tests", "-p", "no:randomly",
                       "--xfail-file", "baseline.txt", "--spec-report", "new.json", cwd=project)
    assert second.returncode == 0, tail(second.output, 80)
    assert f"{len(entries)} known failure(s) excused by --xfail-file" in second.output, tail(second.output)

    diff = installed("layer-spec", "diff", "old.json", "new.json", cwd=project)
    assert diff.returncode == 0 and "0 regressions" in diff.output, diff.output
    assert f"{len(entries)} fixes" not in diff.output or "[now xfailed]" in diff.output, diff.output
    assert _files(project) - before == {"baseline.txt", "old.json", "new.json"}, _files(project) - before


def test_check_from_python_in_another_project(installed, project):
    """``spec_tests.check('keras.layers:Dense', areas=['bias']).conforms`` is True, twice in one process, and the
    process's Keras state (dtype policy, name counters, numpy's generator, the devices) is as it was."""
    dense = "tf_keras.layers:Dense" if LEGACY else "keras.layers:Dense"
    script = textwrap.dedent(f"""
        import numpy as np
        import spec_tests
        from spec_tests.generation import keras
        import tensorflow as tf

        np.random.seed(7)
        state = (keras.mixed_precision.global_policy().name, keras.layers.Dense(2).name,
                 len(tf.config.list_logical_devices("CPU")))
        first = spec_tests.check({dense!r}, areas=["bias"])
        second = spec_tests.check({dense!r}, areas=["bias"])
        after = (keras.mixed_precision.global_policy().name, keras.layers.Dense(2).name,
                 len(tf.config.list_logical_devices("CPU")))
        print("conforms", first.conforms, second.conforms, first.headline())
        print("same", [(c.id, c.outcome) for c in first.clauses] == [(c.id, c.outcome) for c in second.clauses])
        print("state", state, after, np.random.rand())
    """)
    proc = installed(installed.python, "-c", script, cwd=project)
    assert proc.returncode == 0, tail(proc.output)
    assert "conforms True True CONFORMS" in proc.stdout and "same True" in proc.stdout, tail(proc.output)
    found = re.search(r"state \('(\w+)', '(\w+)', (\d)\) \('(\w+)', '(\w+)', (\d)\) ([\d.]+)", proc.stdout)
    assert found, proc.stdout
    policy, name, devices, policy_after, name_after, devices_after, draw = found.groups()
    assert policy_after == policy == "float32" and devices_after == devices, proc.stdout
    assert name_after == "dense_1", f"the name counters were reset: {proc.stdout}"  # Dense(2) before was "dense"
    assert float(draw) == pytest.approx(_numpy_draw(7)), f"numpy's generator moved: {proc.stdout}"
    assert _files(project) == {"pyproject.toml", "my_layers.py"}, _files(project)


def _numpy_draw(seed: int) -> float:
    import numpy as np

    state = np.random.get_state()
    np.random.seed(seed)
    value = np.random.rand()
    np.random.set_state(state)
    return value


def _readme_example() -> str:
    """The README's complete ``parametrize_with_clauses`` example (the fenced block that starts with its file name)."""
    text = (REPO / "README.md").read_text(encoding="utf-8")
    found = re.search(r"```python\n(# test_my_layers\.py\n.*?)```", text, re.DOTALL)
    assert found, "README.md has no ```python block starting with '# test_my_layers.py'"
    return found.group(1)


def test_readme_parametrize_with_clauses_example_runs(installed, project):
    """The README's example test file, copied as it is into a project, runs the clauses on its classes: one test
    item per class and clause, the broken layer's bias clauses failing with the spec's message."""
    (project / "test_my_layers.py").write_text(_readme_example())
    proc = installed(installed.python, "-m", "pytest", "-q", "-p", "no:randomly", "test_my_layers.py", cwd=project)
    assert proc.returncode == 1, tail(proc.output, 60)
    assert re.search(r"FAILED test_my_layers\.py::test_spec\[ForgetfulDense-bias::test_\w+\]", proc.output), tail(
        proc.output)
    assert not re.search(r"FAILED test_my_layers\.py::test_spec\[MyDenseLayer", proc.output), tail(proc.output)
    assert "add the bias" in proc.output, tail(proc.output)  # the clause's own hint reaches the user's run


def test_a_failed_clause_carries_a_reproduction_that_runs_outside_pytest(tmp_path):
    """Each failed clause in the JSON report carries a Python snippet that, run with plain ``python``, fails the
    same way: it names the versions and the seed and holds the clause's own code."""
    report = tmp_path / "report.json"
    proc = run_spec("--impl", "mutants.bias:BiasNeverAdded", "spec_tests.test_bias", "--spec-report", str(report),
                    cwd=REPO)
    assert proc.returncode == 1, tail(proc.output)
    failed = json.loads(report.read_text())["failed"]
    clause = next(c for c in failed if "[" in c["id"])  # a parametrized case: its parameters must come along
    snippet = clause["repro"]
    assert "Seen with" in snippet and "seeded with 1234" in snippet and "def test_" in snippet, snippet
    (tmp_path / "repro.py").write_text(snippet)
    run = subprocess.run([sys.executable, "repro.py"], cwd=tmp_path, capture_output=True, text=True, timeout=300,
                         env={**os.environ, "PYTHONPATH": str(REPO)})
    assert run.returncode != 0, run.stdout + run.stderr
    assert clause["message"].splitlines()[0].split(":")[0] in run.stderr, run.stderr[-2000:]  # SpecFailure
    assert clause["message"].splitlines()[0] in run.stderr, run.stderr[-2000:]


def test_several_implementations_in_one_run_have_their_own_ids_verdicts_and_xfail_entries(tmp_path):
    """Two ``--impl`` in one run: test ids carry the implementation, each gets its verdict and a column in the
    comparison table, and an xfail entry without an implementation's id applies to both."""
    xfail = tmp_path / "known.txt"
    xfail.write_text("spec_tests/test_bias.py::test_fixed_case_bias_is_added_before_relu  # known\n")
    proc = run_spec("--impl", "layers:MyDenseLayer", "--impl", "mutants.bias:BiasNeverAdded", "-rfx",
                    f"--xfail-file={xfail}", "spec_tests.test_bias", cwd=REPO)  # "=": pytest reads no rootdir from it
    assert proc.returncode == 1, tail(proc.output)
    assert "FAILED spec_tests/test_bias.py::test_bias_is_added_closed_form[BiasNeverAdded-" in proc.output
    assert "XFAIL spec_tests/test_bias.py::test_fixed_case_bias_is_added_before_relu[BiasNeverAdded]" in proc.output
    assert "XPASS" not in proc.output or "[MyDenseLayer]" in proc.output, tail(proc.output)
    assert "layer-spec conformance: 2 implementations" in proc.output, tail(proc.output)
    assert re.search(r"^bias\s+21/0\s+12/8 1x$", proc.output, re.MULTILINE), tail(proc.output)
    assert "layers:MyDenseLayer (layers.dense.MyDenseLayer), profile dense: CONFORMS" in proc.output
    assert "mutants.bias:BiasNeverAdded (mutants.bias.BiasNeverAdded), profile dense: DOES NOT CONFORM" in proc.output
