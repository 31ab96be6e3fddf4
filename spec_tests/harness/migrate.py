"""``layer-spec migrate``: does the Keras 3 class read what its Keras 2 original saved? (docs/compatibility.md)

A child process running legacy Keras 2 (``TF_USE_LEGACY_KERAS=1``, tf_keras) builds a small model holding two
instances of the Keras 2 class (``--legacy-impl``, by default the ``--impl`` class itself, for a layer that runs on
both generations), sets seeded weights, and saves it the four ways Keras 2 users did: a full-model ``.h5``, ``.h5``
weights, a TensorFlow checkpoint (``save_weights`` without a suffix) and a SavedModel; it also re-saves the model
in the new formats (``.keras``, ``.weights.h5``), which is Keras's documented way through. This process (Keras 3)
then loads each file into the Keras 3 class (``--impl``) and reports which load, with equal outputs, and for those
that do not, the reason Keras gives and the way through.

The child runs ``spec_tests.harness.migrate save ...``, started by the launcher (:mod:`~spec_tests.harness.launcher`:
``python -P``, the parent's import locations appended after the standard library).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
import tempfile
from pathlib import Path

import numpy as np

from spec_tests.harness import golden, launcher

#: (file, what Keras 2 users called it, the way through when Keras 3 does not load it).
FORMATS = (
    ("model.h5", "full-model .h5 (model.save('m.h5'))",
     "load_model with custom_objects={'<registered name>': Keras3Class}; if the config does not load, rebuild the "
     "model in code and load_weights('m.h5')"),
    ("weights.h5", ".h5 weights (model.save_weights('w.h5'))",
     "build the same model with the Keras 3 class and load_weights('w.h5'); by_name=True matches layers by name"),
    ("checkpoint/weights", "TensorFlow checkpoint (model.save_weights('w'))",
     "Keras 3 reads no TensorFlow checkpoint: load it with tf_keras (TF_USE_LEGACY_KERAS=1) and re-save it as "
     "model.save_weights('w.weights.h5') or model.save('m.keras') (re-saved row below)"),
    ("saved_model", "SavedModel (model.save('dir'))",
     "Keras 3 loads a SavedModel for inference only: keras.layers.TFSMLayer('dir', call_endpoint='serving_default'); "
     "to get the layer back, re-save in the old generation as .keras (re-saved row below)"),
    ("resaved.keras", "re-saved by Keras 2 as .keras (the way through)", "-"),
    ("resaved.weights.h5", "re-saved by Keras 2 as .weights.h5 (the way through)", "-"),
)
UNITS, INPUT_DIM, BATCH = golden.UNITS, golden.INPUT_DIM, golden.BATCH


@dataclasses.dataclass
class Outcome:
    file: str
    what: str
    loads: bool
    equal: bool | None  # None: nothing to compare
    detail: str  # max abs difference, or the reason Keras gives
    way: str


def _model(keras, cls):
    return keras.Sequential([keras.Input((INPUT_DIM,)), cls(UNITS[0], activation="tanh"), cls(UNITS[1])])


# --- the child: Keras 2 saves


def save_keras2(cls, directory: Path) -> None:
    keras = golden.keras_module()
    assert golden.generation(keras) == 2, "the saving child must run legacy Keras 2 (TF_USE_LEGACY_KERAS=1)"
    directory.mkdir(parents=True, exist_ok=True)
    model = _model(keras, cls)
    for i, layer in enumerate(model.layers):
        layer.set_weights([golden.seeded(w.shape, 100 * (i + 1) + j) for j, w in enumerate(layer.get_weights())])
    inputs = golden.seeded((BATCH, INPUT_DIM), 0)
    model.save(str(directory / "model.h5"))
    model.save_weights(str(directory / "weights.h5"))
    model.save_weights(str(directory / "checkpoint" / "weights"))
    model.save(str(directory / "saved_model"), save_format="tf")
    model.save(str(directory / "resaved.keras"))
    model.save_weights(str(directory / "resaved.weights.h5"))
    np.savez(directory / "data.npz", inputs=inputs, outputs=np.asarray(model(inputs)))
    (directory / "saved.json").write_text(json.dumps({
        "class": cls.__name__, "registered_name": golden.registered_name(keras, cls),
        "versions": golden.versions(keras)}, indent=2))


# --- this process: Keras 3 loads


def _compare(outputs, expected) -> tuple[bool, str]:
    outputs = np.asarray(outputs, dtype=np.float64)
    if outputs.shape != expected.shape:
        return False, f"output shape {outputs.shape}, saved {expected.shape}"
    diff = float(np.max(np.abs(outputs - expected)))
    return diff <= golden.tolerance(np.float32) * max(1.0, float(np.max(np.abs(expected)))), f"max abs diff {diff:.2g}"


def _attempt(load, file: str, what: str, way: str, expected, inputs) -> Outcome:
    try:
        model = load()
        outputs = model(inputs)
    except Exception as exc:  # noqa: BLE001 - the reason Keras gives is the finding
        return Outcome(file, what, False, None, golden.root_cause(exc), way)
    if isinstance(outputs, dict):  # TFSMLayer: the serving signature's outputs
        outputs = next(iter(outputs.values()))
    equal, detail = _compare(outputs, expected)
    return Outcome(file, what, True, equal, detail, way)


def load_keras3(cls, directory: Path) -> list[Outcome]:
    """Load every saved file into ``cls`` (Keras 3) and compare the outputs with what Keras 2 computed."""
    import keras

    saved = json.loads((directory / "saved.json").read_text())
    with np.load(directory / "data.npz") as data:
        inputs, expected = data["inputs"], data["outputs"].astype(np.float64)
    custom_objects = {saved["registered_name"]: cls, saved["class"]: cls}

    def loaders(file):
        path = str(directory / file)
        if file.endswith("weights.h5") or file.startswith("checkpoint"):
            def load_weights():
                model = _model(keras, cls)
                model.load_weights(path)
                return model
            return load_weights
        return lambda: keras.models.load_model(path, custom_objects=custom_objects)

    outcomes = [_attempt(loaders(file), file, what, way, expected, inputs) for file, what, way in FORMATS]
    for outcome in outcomes:  # the documented ways through, tried
        if outcome.file == "saved_model" and not outcome.loads:
            tfsm = _attempt(lambda: keras.layers.TFSMLayer(str(directory / "saved_model"),
                                                           call_endpoint="serving_default"),
                            "saved_model", "", "", expected, inputs)
            outcome.way += f" [TFSMLayer tried: {'equal outputs' if tfsm.equal else tfsm.detail}]"
        if outcome.file == "weights.h5" and not outcome.loads:
            def by_name(path=str(directory / "weights.h5")):
                model = _model(keras, cls)
                model.load_weights(path, by_name=True)
                return model
            tried = _attempt(by_name, "weights.h5", "", "", expected, inputs)
            outcome.way += f" [by_name=True tried: {'equal outputs' if tried.equal else tried.detail}]"
    return outcomes


def render(outcomes: list[Outcome], saved: dict, label: str) -> str:
    import keras

    v = saved["versions"]
    lines = [f"saved by {v['keras_distribution']} {v['keras']} (TensorFlow {v['tensorflow']}) with {saved['class']} "
             f"(registered {saved['registered_name']!r}); loaded by keras {keras.__version__} "
             f"({keras.backend.backend()}) into {label}", ""]
    for outcome in outcomes:
        verdict = ("loads, equal outputs" if outcome.equal else "loads, OUTPUTS DIFFER") if outcome.loads \
            else "does not load"
        lines.append(f"{outcome.what}: {verdict} ({outcome.detail})")
        if not (outcome.loads and outcome.equal):
            lines.append(f"    way through: {outcome.way}")
    return "\n".join(lines)


# --- the command


def add_parser(commands) -> None:
    parser = commands.add_parser(
        "migrate", help="the Keras 2 to Keras 3 migration check: Keras 2 saves, Keras 3 loads (docs/compatibility.md)",
        description=__doc__.split("\n\n")[1])
    parser.add_argument("--impl", required=True, metavar="SPEC", help="the Keras 3 class: module:Class or file.py:Class")
    parser.add_argument("--legacy-impl", metavar="SPEC",
                        help="its Keras 2 original, when it is another class (default: --impl, on both generations)")
    parser.add_argument("--keep", metavar="DIR", help="save the Keras 2 files here (default: a temporary folder)")


def main(args) -> int:
    """Exit status 0 when every Keras 2 format loads with equal outputs or its way through does; 1 otherwise."""
    from spec_tests import environment
    from spec_tests.harness.impls import load_impl

    if environment.truthy(os.environ.get(environment.LEGACY_KERAS)):
        print(f"layer-spec migrate: this process must run Keras 3; unset {environment.LEGACY_KERAS}", file=sys.stderr)
        return 4
    directory = Path(args.keep or tempfile.mkdtemp(prefix="layer-spec-migrate-"))
    env = launcher.child_environment({environment.LEGACY_KERAS: "1", "TF_CPP_MIN_LOG_LEVEL": "2"},
                                     drop=(environment.KERAS_BACKEND,))
    child = launcher.run_child(launcher.python_command("module", "spec_tests.harness.migrate", "save", "--impl",
                                                       args.legacy_impl or args.impl, str(directory)), env)
    if child.unknown or child.returncode != 0:
        why = child.unknown or launcher.how_it_ended(child.returncode)
        print(f"layer-spec migrate: Keras 2 could not save the model ({why}):\n{child.output[-3000:]}",
              file=sys.stderr)
        return 1
    if os.getcwd() not in sys.path:
        sys.path.append(os.getcwd())  # the class imports from the current folder, after the standard library
    cls, label = load_impl(args.impl)
    outcomes = load_keras3(cls, directory)
    print(render(outcomes, json.loads((directory / "saved.json").read_text()), label))
    print(f"\nfiles: {directory}")
    through = {o.file for o in outcomes if o.loads and o.equal}
    return 0 if through >= {"resaved.keras", "resaved.weights.h5"} else 1


def _child(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m spec_tests.harness.migrate")
    parser.add_argument("command", choices=("save",))
    parser.add_argument("--impl", required=True)
    parser.add_argument("directory")
    args = parser.parse_args(argv)
    from spec_tests.harness.impls import load_impl

    cls, _ = load_impl(args.impl)
    save_keras2(cls, Path(args.directory))
    return 0


if __name__ == "__main__":
    sys.exit(_child())
