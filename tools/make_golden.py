"""Make the project's own golden sets: the reference layers saved by older Keras releases (docs/compatibility.md).

Usage (from the repository root, with the project's virtual environment active)::

    python tools/make_golden.py releases [NAME ...] [--update]   # tests/golden/<release>-<backend>/<Class>/
    python tools/make_golden.py versioned [--update]             # tests/golden/versioned/<Class>/
    python tools/make_golden.py list

``releases``: for each release of :data:`RELEASES`, a scratch virtual environment under ``/tmp/golden_venvs``
(made once, never committed) gets that Keras and a backend (JAX where it installs fastest, TensorFlow for the
TensorFlow layer and for tf_keras), then ``spec_tests/harness/golden.py`` (self-contained) writes each layer's set
there, in a child process of that environment. The layers are the real ``layers/dense.py`` and
``layers/ops_dense.py``, copied unchanged beside ``tools/golden_compat.py`` (their ``_compat`` without the spec).
``"python": "project"`` runs a release with this project's own environment instead (the versions it pins).

``versioned``: version 1 of ``VersionedDense`` (``mutants/_versioned.py``) writes, in this process, the set each
version 2 (the compatibility mutants and the correct refactor) is checked against, registered under the name
version 2's users' files carry.

Sets are never overwritten silently: an existing one is kept unless ``--update``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
GOLDEN = ROOT / "tests" / "golden"
VENVS = Path(os.environ.get("GOLDEN_VENVS", "/tmp/golden_venvs"))
SCRATCH = Path("/tmp/golden_src")
PYTHON = "python3.11"
OPS_DENSE = "layers.ops_dense:OpsDense"
MY_DENSE = "layers.dense:MyDenseLayer"

#: name -> what to install (or "project": this environment), the backend, the layers, legacy Keras 2 or not.
RELEASES = {
    "keras-3.0.0-jax": dict(pip=["keras==3.0.0", "jax==0.4.23", "jaxlib==0.4.23", "numpy<2", "ml_dtypes<0.5",
                                 "h5py", "packaging"], backend="jax", impls=[OPS_DENSE]),  # 3.0 forgot packaging
    "keras-3.4.0-jax": dict(pip=["keras==3.4.0", "jax==0.4.30", "jaxlib==0.4.30", "numpy<2", "h5py"],
                            backend="jax", impls=[OPS_DENSE]),
    "keras-3.8.0-jax": dict(pip=["keras==3.8.0", "jax==0.4.38", "jaxlib==0.4.38", "h5py"], backend="jax",
                            impls=[OPS_DENSE]),
    "keras-3.12.0-jax": dict(pip=["keras==3.12.0", "jax==0.7.2", "jaxlib==0.7.2", "h5py"], backend="jax",
                             impls=[OPS_DENSE]),
    "keras-3.15.1-tensorflow": dict(pip="project", backend="tensorflow", impls=[MY_DENSE, OPS_DENSE]),
    "keras-3.15.1-jax": dict(pip="project", backend="jax", impls=[OPS_DENSE]),
    "tf_keras-2.15.1-tensorflow": dict(pip=["tensorflow-cpu==2.15.1", "tf-keras==2.15.1", "numpy<2"],
                                       backend="tensorflow", impls=[MY_DENSE], legacy=True),
    "tf_keras-2.21.0-tensorflow": dict(pip="project", backend="tensorflow", impls=[MY_DENSE], legacy=True),
}
#: The configurations of the versioned sets: one fixed, and version 1's own (output_scale=2).
VERSIONED_CONFIGURATIONS = ("bias", "scaled")


def venv_python(name: str, release: dict) -> str:
    """The interpreter of the release's scratch environment, made (once) when missing."""
    if release["pip"] == "project":
        return sys.executable
    venv = VENVS / name
    if not (venv / "complete").exists():  # made in place: a virtual environment cannot be moved
        shutil.rmtree(venv, ignore_errors=True)
        subprocess.run([PYTHON, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "-q", *release["pip"]], check=True)
        (venv / "complete").write_text(" ".join(release["pip"]) + "\n")
    return str(venv / "bin" / "python")


def scratch_sources(name: str) -> Path:
    """golden.py and the layers, copied for a child that must not import the project (nor the spec)."""
    where = SCRATCH / name
    shutil.rmtree(where, ignore_errors=True)
    (where / "layers").mkdir(parents=True)
    shutil.copy(ROOT / "spec_tests" / "harness" / "golden.py", where / "golden.py")
    for module in ("dense.py", "ops_dense.py"):
        shutil.copy(ROOT / "layers" / module, where / "layers" / module)
    shutil.copy(ROOT / "tools" / "golden_compat.py", where / "layers" / "_compat.py")
    (where / "layers" / "__init__.py").write_text("")
    return where


def make_release(name: str, update: bool) -> None:
    release = RELEASES[name]
    python = venv_python(name, release)
    sources = scratch_sources(name)
    env = {key: value for key, value in os.environ.items() if key not in ("PYTHONPATH", "TF_USE_LEGACY_KERAS")}
    env.update(PYTHONPATH=str(sources), KERAS_BACKEND=release["backend"], TF_CPP_MIN_LOG_LEVEL="3",
               CUDA_VISIBLE_DEVICES="", JAX_PLATFORMS="cpu")
    if release.get("legacy"):
        env["TF_USE_LEGACY_KERAS"] = "1"
    for impl in release["impls"]:
        target = GOLDEN / name / impl.rpartition(":")[2]
        if (target / "manifest.json").exists() and not update:
            print(f"{target.relative_to(ROOT)}: kept (pass --update to rewrite it)")
            continue
        command = [python, "-P", str(sources / "golden.py"), "write", "--impl", impl, str(target)]
        if update:
            command.append("--update")
        subprocess.run(command, check=True, env=env, cwd=sources)


def make_versioned(update: bool) -> None:
    sys.path.insert(0, str(ROOT))
    from layers._compat import keras
    from mutants._versioned import SAVED_AS, VersionedDenseV1
    from spec_tests.harness import golden

    for name, saved_as in SAVED_AS.items():
        package, _, class_name = saved_as.partition(">")
        version_1 = keras.saving.register_keras_serializable(package=package)(
            type(class_name, (VersionedDenseV1,), {"__doc__": VersionedDenseV1.__doc__,
                                                   "__module__": VersionedDenseV1.__module__}))
        configurations = {**golden.FIXED, **golden.declared_configurations(version_1)}
        target = GOLDEN / "versioned" / name
        if (target / "manifest.json").exists() and not update:
            print(f"{target.relative_to(ROOT)}: kept (pass --update to rewrite it)")
            continue
        golden.write_set(version_1, target, {key: configurations[key] for key in VERSIONED_CONFIGURATIONS},
                         update=update)
        print(f"wrote {target.relative_to(ROOT)} (version 1, saved as {saved_as})")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="make_golden", description=__doc__.split("\n\n")[0])
    parser.add_argument("what", choices=("releases", "versioned", "list"))
    parser.add_argument("names", nargs="*", help=f"releases to make (default: all): {', '.join(RELEASES)}")
    parser.add_argument("--update", action="store_true", help="rewrite sets that exist")
    args = parser.parse_args(argv)
    if args.what == "list":
        for name, release in RELEASES.items():
            print(f"{name}: {' '.join(release['pip']) if release['pip'] != 'project' else 'this environment'}")
        return 0
    if args.what == "versioned":
        make_versioned(args.update)
        return 0
    for name in args.names or RELEASES:
        make_release(name, args.update)
    return 0


if __name__ == "__main__":
    sys.exit(main())
