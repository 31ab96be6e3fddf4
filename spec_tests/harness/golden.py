"""Golden sets: the files a layer's users saved, written once and read back by every later version of the layer.

A *golden set* is a directory with a ``manifest.json`` and one folder per *configuration* (a way to construct the
layer: its constructor options and the input shape). Each folder holds what a user's model leaves on disk, for a
small model with two instances of the layer (keras-team/keras#18830 broke on the second one):

* ``model.keras``: the whole model; ``model.weights.h5``: its weights alone;
* ``config.json``: both layers' ``get_config()``, and the name the class was registered under;
* ``data.npz``: the inputs, the outputs, and every weight by layer and name (``0/kernel``);
* ``model.h5`` too when Keras 2 (tf_keras) wrote the set: the legacy format its users saved.

The manifest records the Keras, TensorFlow, JAX and NumPy versions, the backend, the layer's class, registered
name and version (``__version__`` of its module or package), and each configuration. Writing never overwrites a
set silently: :func:`write_set` refuses an existing one unless ``update=True``.

Reading (the checks of ``spec_tests/test_compatibility.py`` and ``tests/test_compatibility.py``) raises
:class:`Mismatch` (what, expected, seen, how to fix) when the current code does not read a configuration back:
the config does not rebuild the layer, the ``.keras`` file does not load as the class, a weight lands in another
variable, or an output differs by more than the dtype's rounding.

This module is self-contained (stdlib, NumPy and Keras, imported lazily), so ``tools/make_golden.py`` copies it
into scratch environments of older Keras releases and runs it there: ``python -P golden.py write --impl
module:Class DIR`` (the layer's module must be importable there).
"""

from __future__ import annotations

import dataclasses
import importlib
import importlib.util
import json
import os
import platform
import shutil
import sys
from pathlib import Path

import numpy as np

FORMAT = 1
MANIFEST = "manifest.json"
#: Constructor options a configuration may pass that are Dense's (the others are the layer's own).
UNITS = (3, 2)  # the two instances: 4 -> 3 -> 2
INPUT_DIM = 4
BATCH = 3
#: The class attribute with the layer's own configurations: ``{"name": {constructor kwargs}}``.
CONFIGURATIONS_ATTRIBUTE = "layer_spec_configurations"
#: The class attribute naming the golden set a class is checked against (relative to the class's file).
GOLDEN_ATTRIBUTE = "layer_spec_golden"
CONFIG_FIX = ("keep accepting every constructor argument an earlier version wrote into get_config: accept the old "
              "name in __init__ (for example `def __init__(self, units, new_name=1.0, old_name=None, **kwargs)`, "
              "mapping old_name onto new_name), or translate it in a from_config classmethod")


@dataclasses.dataclass(frozen=True)
class Configuration:
    """One way to construct the layer: constructor options (JSON values) and the input's shape without the batch."""

    kwargs: dict
    input_shape: tuple = (INPUT_DIM,)

    def to_json(self) -> dict:
        return {"kwargs": self.kwargs, "input_shape": list(self.input_shape)}


#: The fixed configurations of the dense contract (every golden set has those the layer offers).
FIXED = {
    "bias": Configuration({}),
    "no_bias": Configuration({"use_bias": False}),
    "activation": Configuration({"activation": "tanh"}),
    "rank3": Configuration({}, (2, INPUT_DIM)),
    "initializer": Configuration({"kernel_initializer": "he_normal", "bias_initializer": "ones"}),
    "mixed_float16": Configuration({"dtype": "mixed_float16"}),
}


class Mismatch(Exception):
    """The current code does not read a golden file back: ``what``, ``expected``, ``seen``, ``hint`` (the fix)."""

    def __init__(self, what: str, expected, seen, hint: str | None = None):
        super().__init__(f"{what}: expected {expected}, seen {seen}" + (f"\nhint: {hint}" if hint else ""))
        self.what, self.expected, self.seen, self.hint = what, expected, seen, hint


def keras_module():
    """The running generation's Keras: tf_keras when ``TF_USE_LEGACY_KERAS`` asks for it (as TensorFlow reads it)."""
    if os.environ.get("TF_USE_LEGACY_KERAS", "").strip().lower() in ("1", "true", "yes"):
        import tf_keras

        return tf_keras
    import keras

    return keras


def generation(keras) -> int:
    return 2 if keras.__name__.startswith("tf_keras") else 3


def backend_name(keras) -> str:
    return keras.backend.backend() if generation(keras) == 3 else "tensorflow"


def registered_name(keras, cls) -> str:
    getter = getattr(keras.utils, "get_registered_name", None) or keras.saving.get_registered_name
    return getter(cls)


def declared_configurations(cls, extra: dict | None = None) -> dict:
    """The layer's own configurations: its class attribute, then ``extra`` (an ini entry), as Configurations."""
    declared = dict(getattr(cls, CONFIGURATIONS_ATTRIBUTE, None) or {})
    declared.update(extra or {})
    clash = sorted(set(declared) & set(FIXED))
    if clash:
        raise ValueError(f"{cls.__name__}: declared configuration names {clash} are the fixed ones' names; "
                         f"choose others (fixed: {', '.join(FIXED)})")
    return {name: Configuration(dict(kwargs)) for name, kwargs in declared.items()}


def layer_version(cls) -> str | None:
    """``__version__`` of the class's module, else of its top-level package; None when neither has one."""
    module = sys.modules.get(cls.__module__)
    for candidate in (module, sys.modules.get(cls.__module__.split(".")[0])):
        version = getattr(candidate, "__version__", None)
        if version is not None:
            return str(version)
    return None


def versions(keras) -> dict:
    found = {"keras": keras.__version__, "keras_distribution": "tf-keras" if generation(keras) == 2 else "keras",
             "backend": backend_name(keras), "numpy": np.__version__, "python": platform.python_version()}
    for name in ("tensorflow", "jax"):
        module = sys.modules.get(name)
        found[name] = getattr(module, "__version__", None) if module else None
    return found


def short_name(variable) -> str:
    """A variable's own name, without its layer's scope or TensorFlow's ``:0`` (``dense/kernel:0`` -> ``kernel``)."""
    return str(variable.name).split("/")[-1].split(":")[0]


def seeded(shape, seed: int, dtype="float32") -> np.ndarray:
    """Values in [-1, 1) from NumPy alone, so every Keras version and backend sees the same numbers."""
    return np.random.default_rng(seed).uniform(-1.0, 1.0, size=tuple(shape)).astype(dtype)


def tolerance(dtype) -> float:
    """Within the dtype's rounding: eight units in the last place, relative to max(1, |value|)."""
    return float(np.finfo(np.dtype(dtype) if str(dtype) != "bfloat16" else np.float32).eps) * 8


def _model(keras, layers, input_shape):
    return keras.Sequential([keras.Input(tuple(input_shape)), *layers])


# --- writing


def write_set(cls, directory, configurations: dict, *, make_layer=None, update: bool = False) -> dict:
    """Write ``configurations`` (name -> Configuration) of ``cls`` under ``directory``; return the manifest.

    ``make_layer(units, **kwargs)`` builds an instance (default: the class). An existing set is refused with a
    FileExistsError unless ``update``; with ``update`` the set is written anew.
    """
    keras = keras_module()
    directory = Path(directory)
    if (directory / MANIFEST).exists():
        if not update:
            raise FileExistsError(f"{directory} already holds a golden set ({MANIFEST}); it is never overwritten "
                                  "silently: pass the update flag (--spec-golden-update, or --update) to rewrite it")
        shutil.rmtree(directory)
    make_layer = make_layer or cls
    manifest = {"format": FORMAT, "versions": versions(keras),
                "layer": {"class": cls.__name__, "module": cls.__module__,
                          "registered_name": registered_name(keras, cls), "version": layer_version(cls)},
                "configurations": {}}
    for name, configuration in configurations.items():
        _write_configuration(keras, make_layer, directory / name, configuration)
        manifest["configurations"][name] = configuration.to_json()
    (directory / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    return manifest


def as_array(value) -> np.ndarray:
    """A backend's tensor as NumPy: torch's outputs track gradients and must be detached first."""
    if hasattr(value, "detach"):
        value = value.detach().cpu()
    return np.asarray(value)


def _write_configuration(keras, make_layer, folder: Path, configuration: Configuration) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    layers = [make_layer(units, **configuration.kwargs) for units in UNITS]
    model = _model(keras, layers, configuration.input_shape)
    arrays = {"inputs": seeded((BATCH, *configuration.input_shape), seed=0)}
    for i, layer in enumerate(layers):
        layer.set_weights([seeded(w.shape, seed=100 * (i + 1) + j, dtype=np.dtype(str(np.asarray(w).dtype)))
                           for j, w in enumerate(layer.get_weights())])
        for weight in layer.weights:
            arrays[f"{i}/{short_name(weight)}"] = np.asarray(weight.numpy())
    arrays["outputs"] = as_array(model(arrays["inputs"]))
    model.save(str(folder / "model.keras"))
    model.save_weights(str(folder / "model.weights.h5"))
    if generation(keras) == 2:
        model.save(str(folder / "model.h5"))
    np.savez(folder / "data.npz", **arrays)
    config = {"registered_name": registered_name(keras, type(layers[0])),
              "layers": [layer.get_config() for layer in layers]}
    (folder / "config.json").write_text(json.dumps(config, indent=2, sort_keys=True, default=repr) + "\n")


# --- reading


def read_manifest(directory) -> dict:
    path = Path(directory) / MANIFEST
    if not path.exists():
        raise FileNotFoundError(f"{directory} is not a golden set: it has no {MANIFEST} (write one with "
                                "layer-spec golden write --impl X DIR)")
    return json.loads(path.read_text())


#: Why a configuration is left out of a set another Keras generation wrote (None: it is read).
KERAS2_POLICY = ("Keras 3 does not read the dtype policy tf_keras writes into a config (mixed_float16), for "
                 "keras.layers.Dense too: a Keras limitation, not the layer's (layer-spec migrate covers Keras 2 files)")


def unreadable_here(manifest: dict, name: str) -> str | None:
    """Why this process's Keras cannot read configuration ``name`` of the set whatever the layer does, or None."""
    written_by_keras2 = manifest["versions"]["keras_distribution"] == "tf-keras"
    if written_by_keras2 and generation(keras_module()) == 3 and "dtype" in manifest["configurations"][name]["kwargs"]:
        return KERAS2_POLICY
    if not written_by_keras2 and generation(keras_module()) == 2:
        return "tf_keras does not read a Keras 3 file"
    return None


def saved_by(manifest: dict) -> str:
    v = manifest["versions"]
    return f"{v['keras_distribution']} {v['keras']} on {v['backend']}"


def _data(folder: Path) -> dict:
    with np.load(folder / "data.npz") as data:
        return {key: data[key] for key in data.files}


def check_config(cls, folder: Path) -> list:
    """Each saved layer config rebuilds a layer of ``cls`` (``cls.from_config``); returns the layers."""
    config = json.loads((Path(folder) / "config.json").read_text())
    rebuilt = []
    for i, layer_config in enumerate(config["layers"]):
        try:
            rebuilt.append(cls.from_config(layer_config))
        except Exception as exc:  # noqa: BLE001 - the failure is the finding
            raise Mismatch(f"{cls.__name__}.from_config(saved config of layer {i})", "a rebuilt layer",
                           f"{type(exc).__name__}: {exc}", CONFIG_FIX) from exc
    return rebuilt


MEANING_FIX = ("the outputs of a file saved by an earlier version changed: keep what each option means (a new "
               "behaviour gets a new option, off by default) and compute the same function of the same weights")


def root_cause(exc: BaseException) -> str:
    """The exception's text, and the deepest exception it was raised from (Keras wraps a class's own error)."""
    chain, seen = [exc], {id(exc)}
    while (nxt := chain[-1].__cause__ or chain[-1].__context__) is not None and id(nxt) not in seen:
        chain.append(nxt)
        seen.add(id(nxt))
    text = f"{type(exc).__name__}: {str(exc)[:400]}"
    encountered = str(exc).rpartition("Exception encountered:")[2].strip() if "Exception encountered:" in str(exc) else ""
    if encountered:  # Keras puts the class's own error at the end of a long message
        text = f"{type(exc).__name__}: {str(exc).splitlines()[0][:200]} ... Exception encountered: {encountered[:400]}"
    elif len(chain) > 1:
        text += f" (raised from {type(chain[-1]).__name__}: {str(chain[-1])[:400]})"
    return text


def check_outputs(model, folder: Path, what: str, hint: str | None = MEANING_FIX) -> None:
    data = _data(folder)
    expected = data["outputs"]
    seen = as_array(model(data["inputs"]))
    if seen.shape != expected.shape:
        raise Mismatch(f"{what}: output shape", expected.shape, seen.shape, hint)
    tol = tolerance(expected.dtype)
    diff = np.abs(seen.astype(np.float64) - expected.astype(np.float64))
    limit = tol * np.maximum(1.0, np.abs(expected.astype(np.float64)))
    if not (diff <= limit).all():
        worst = np.unravel_index(int(np.argmax(diff - limit)), diff.shape)
        raise Mismatch(f"{what}: outputs against the saved outputs ({expected.dtype}, within {tol:.2g} relative)",
                       f"{float(expected[worst])!r} at {tuple(int(i) for i in worst)}",
                       f"{float(seen[worst])!r} ({int((diff > limit).sum())} of {diff.size} elements differ)", hint)


def check_keras_file(cls, folder: Path, saved_name: str):
    """``load_model(model.keras)`` finds ``cls`` under the name it was saved as and gives the saved outputs."""
    keras = keras_module()
    current = registered_name(keras, cls)
    # The same name: bind it to the class under test (in a process where several classes claim one name, the
    # last registration holds the registry). Another name: load as a user would, through the registry alone.
    custom_objects = {saved_name: cls} if current == saved_name else None
    path = Path(folder) / "model.keras"
    try:
        model = keras.models.load_model(str(path), custom_objects=custom_objects)
    except Exception as exc:  # noqa: BLE001
        hint = (f"files saved as {saved_name!r} look the class up under that name, and the class now registers as "
                f"{current!r}: keep the old registration (register_keras_serializable with the old package and "
                "name), or register the class under both names" if current != saved_name else CONFIG_FIX)
        raise Mismatch(f"load_model({path.name}) with {cls.__name__}", f"a model (saved as {saved_name!r})",
                       root_cause(exc), hint) from exc
    found = [type(layer).__name__ for layer in model.layers]
    if not all(isinstance(layer, cls) for layer in model.layers):
        raise Mismatch(f"the layers load_model({path.name}) rebuilt", f"two {cls.__name__} layers", found,
                       f"files saved as {saved_name!r} must find {cls.__name__}: keep its registered name")
    check_outputs(model, folder, f"load_model({path.name})")
    return model


def check_weights_file(cls, folder: Path, input_shape, layers=None) -> None:
    """A model built from the saved config (or of ``layers``, for a class without one) loads ``model.weights.h5``:
    each weight lands in the variable of its name, and the outputs are the saved ones."""
    keras = keras_module()
    layers = layers if layers is not None else check_config(cls, folder)
    model = _model(keras, layers, input_shape)
    path = Path(folder) / "model.weights.h5"
    try:
        model.load_weights(str(path))
    except Exception as exc:  # noqa: BLE001
        raise Mismatch(f"load_weights({path.name})", "the saved weights", root_cause(exc),
                       "create the weights in the same order, with the same shapes, as the version that saved "
                       "them (Keras stores a layer's weights by position)") from exc
    data = _data(folder)
    for i, layer in enumerate(layers):
        for weight in layer.weights:
            key = f"{i}/{short_name(weight)}"
            if key not in data:
                continue
            seen = np.asarray(weight.numpy())
            if seen.shape != data[key].shape or not np.array_equal(seen, data[key]):
                raise Mismatch(f"layer {i}'s {short_name(weight)!r} after load_weights({path.name})",
                               f"the saved {key} {data[key].shape}", f"other values {seen.shape}",
                               "Keras stores a layer's weights by position: create them in the order the earlier "
                               "version did (the first add_weight first), or map them in load_own_variables")
    check_outputs(model, folder, f"load_weights({path.name})")


# --- the self-contained command (run inside older Keras releases by tools/make_golden.py)


def load_class(spec: str):
    """``module:Class`` or ``path/to/file.py:Class``, with the stdlib only."""
    where, _, name = spec.rpartition(":")
    if where.endswith(".py"):
        module_spec = importlib.util.spec_from_file_location(Path(where).stem, where)
        module = importlib.util.module_from_spec(module_spec)
        sys.modules[module_spec.name] = module
        module_spec.loader.exec_module(module)
    else:
        module = importlib.import_module(where)
    return getattr(module, name)


def main(argv=None) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="golden", description="write a golden set of a layer class")
    parser.add_argument("command", choices=("write",))
    parser.add_argument("--impl", required=True, help="module:Class or file.py:Class")
    parser.add_argument("--only", default="", help="comma-separated configuration names (default: all)")
    parser.add_argument("--update", action="store_true", help="rewrite an existing set")
    parser.add_argument("directory")
    args = parser.parse_args(argv)
    cls = load_class(args.impl)
    configurations = {**FIXED, **declared_configurations(cls)}
    if args.only:
        configurations = {name: configurations[name] for name in args.only.split(",")}
    try:
        manifest = write_set(cls, args.directory, configurations, update=args.update)
    except FileExistsError as exc:
        print(f"golden write: {exc}", file=sys.stderr)
        return 1
    print(f"wrote {len(manifest['configurations'])} configurations of {cls.__name__} to {args.directory} "
          f"({saved_by(manifest)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
