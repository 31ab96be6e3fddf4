"""Today's reference layers read the golden sets older releases wrote, and the golden machinery keeps its promises.

The sets under ``tests/golden/<release>-<backend>/<Class>/`` were written by ``tools/make_golden.py`` in scratch
environments of those releases (docs/compatibility.md has the table). Each is read here in this process with the
current code, on the running generation and backend: Keras 3 sets with Keras 3 (``OpsDense`` on any backend, so a
set JAX wrote is read on TensorFlow and the other way round; ``MyDenseLayer``, TensorFlow ops, on TensorFlow only),
tf_keras sets with legacy Keras 2, and with Keras 3 too, which reads them except for a mixed-precision policy.
The default tier reads the oldest and the newest Keras 3 sets; ``--full`` every set.

The versioned sets (``tests/golden/versioned/``) are version 1 of ``mutants/_versioned.py``: the compatibility
mutants must each fail the check their mistake breaks, and the correct refactor must pass every check.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from layers._compat import GENERATION, keras
from spec_tests.backend import BACKEND
from spec_tests.generation import clear_session
from spec_tests.harness import golden
from tests.tiers import FULL

GOLDEN = Path(__file__).resolve().parent / "golden"
RELEASE_SETS = sorted(path.parent for path in GOLDEN.glob("*/*/manifest.json") if path.parent.parent.name != "versioned")
#: The sets the default tier reads (the oldest and the newest Keras 3 release); --full reads every set.
DEFAULT_TIER_SETS = ("keras-3.0.0-jax/OpsDense", "keras-3.15.1-tensorflow/MyDenseLayer")


def _set_id(directory: Path) -> str:
    return f"{directory.parent.name}/{directory.name}"


def _class_of(manifest: dict):
    import layers

    return getattr(layers, manifest["layer"]["class"])


def _check_every_configuration(cls, directory: Path, skip=()) -> list[str]:
    manifest = golden.read_manifest(directory)
    checked = []
    for name, configuration in sorted(manifest["configurations"].items()):
        if name in skip:
            continue
        folder = directory / name
        golden.check_config(cls, folder)
        golden.check_keras_file(cls, folder, manifest["layer"]["registered_name"])
        golden.check_weights_file(cls, folder, tuple(configuration["input_shape"]))
        clear_session()  # Keras 3's without free_memory: no full garbage collection (0.4 s each)
        checked.append(name)
    return checked


@pytest.mark.parametrize("directory", [pytest.param(d, id=_set_id(d), marks=() if _set_id(d) in DEFAULT_TIER_SETS
                                                    else FULL) for d in RELEASE_SETS])
def test_reference_layer_reads_the_golden_set_of_an_older_release(directory):
    """Each committed set loads with today's layer: configs rebuild, files load as the class, weights land in
    their variables, outputs equal within the dtype's rounding."""
    manifest = golden.read_manifest(directory)
    written_by_keras2 = manifest["versions"]["keras_distribution"] == "tf-keras"
    if GENERATION == 2 and not written_by_keras2:
        pytest.skip("a Keras 3 file is not a legacy Keras 2 one: tf_keras does not read it")
    if manifest["layer"]["class"] == "MyDenseLayer" and BACKEND != "tensorflow":
        pytest.skip(f"MyDenseLayer calls TensorFlow ops; this run's backend is {BACKEND}")
    skip = [name for name in manifest["configurations"] if golden.unreadable_here(manifest, name)]
    checked = _check_every_configuration(_class_of(manifest), directory, skip)
    assert set(checked) == set(manifest["configurations"]) - set(skip)


def test_the_committed_sets_cover_the_listed_releases():
    """There is a set for every release tools/make_golden.py lists, each from the release its name says."""
    from tools.make_golden import RELEASES

    names = {directory.parent.name for directory in RELEASE_SETS}
    assert names == set(RELEASES)
    for directory in RELEASE_SETS:
        versions = golden.read_manifest(directory)["versions"]
        assert directory.parent.name == f"{versions['keras_distribution'].replace('-', '_')}-{versions['keras']}-" \
                                        f"{versions['backend']}"
        assert set(golden.read_manifest(directory)["configurations"]) == set(golden.FIXED)


@pytest.mark.skipif(GENERATION == 2, reason="Keras 3 reading a tf_keras config: not a question under Keras 2")
def test_keras3_does_not_read_a_keras2_mixed_precision_config():
    """The one tf_keras configuration Keras 3 does not read is the mixed-precision one, for Keras's own Dense too."""
    directory = GOLDEN / "tf_keras-2.21.0-tensorflow" / "MyDenseLayer" / "mixed_float16"
    config = json.loads((directory / "config.json").read_text())["layers"][0]
    with pytest.raises(Exception):  # noqa: B017, PT011 - which exception is Keras's business
        keras.layers.Dense.from_config({key: value for key, value in config.items() if key in (
            "units", "dtype", "name", "use_bias", "trainable")})


# --- the golden machinery


def test_write_refuses_an_existing_set_and_update_rewrites_it(tmp_path):
    """Writing never overwrites a set silently; ``update`` rewrites it whole."""
    configurations = {"bias": golden.FIXED["bias"]}
    golden.write_set(keras.layers.Dense, tmp_path / "set", configurations)
    with pytest.raises(FileExistsError, match="never overwritten"):
        golden.write_set(keras.layers.Dense, tmp_path / "set", {"no_bias": golden.FIXED["no_bias"]})
    golden.write_set(keras.layers.Dense, tmp_path / "set", {"no_bias": golden.FIXED["no_bias"]}, update=True)
    assert sorted(p.name for p in (tmp_path / "set").iterdir()) == ["manifest.json", "no_bias"]


@pytest.mark.skipif(BACKEND != "tensorflow", reason="MyDenseLayer calls TensorFlow ops")
def test_golden_write_command_refuses_an_existing_set(tmp_path, capsys):
    """``layer-spec golden write`` (golden.py's command) writes a set, refuses to write it again, rewrites with --update."""
    command = ["write", "--impl", "layers:MyDenseLayer", "--only", "bias", str(tmp_path / "set")]
    assert golden.main(command) == 0
    assert golden.main(command) == 1
    assert "never overwritten silently" in capsys.readouterr().err
    assert golden.main([*command, "--update"]) == 0
    assert golden.read_manifest(tmp_path / "set")["layer"]["registered_name"] == "layers>MyDenseLayer"


def test_manifest_records_versions_and_the_layer(tmp_path):
    """The manifest names Keras, the backend, TensorFlow, the layer's class, registered name and version."""
    manifest = golden.write_set(keras.layers.Dense, tmp_path, {"bias": golden.FIXED["bias"]})
    assert manifest["versions"]["keras"] == keras.__version__
    assert manifest["versions"]["backend"] == BACKEND
    assert manifest["layer"]["class"] == "Dense" and manifest["layer"]["registered_name"] == "Dense"
    assert sorted(p.name for p in (tmp_path / "bias").iterdir()) == sorted(
        ["config.json", "data.npz", "model.keras", "model.weights.h5", *(["model.h5"] if GENERATION == 2 else [])])


def _square_layer(order):
    """A layer class named ``Square`` with two weights of one shape, created in ``order`` (Keras's weights files
    find a layer by its class's snake_case name, so version 1 and version 2 must share the name)."""

    def build(self, input_shape):
        for name in order:
            setattr(self, name, self.add_weight(name=name, shape=(self.units,)))

    def __init__(self, units, **kwargs):
        keras.layers.Layer.__init__(self, **kwargs)
        self.units = units

    return type("Square", (keras.layers.Layer,), {
        "__init__": __init__, "build": build,
        "call": lambda self, inputs: inputs[..., : self.units] * self.a + self.b,
        "get_config": lambda self: {**keras.layers.Layer.get_config(self), "units": self.units}})


def test_a_swapped_weight_is_caught(tmp_path):
    """A weight that lands in another variable of the same shape is named, even though the file loads."""
    version_1, version_2 = _square_layer("ab"), _square_layer("ba")
    golden.write_set(version_1, tmp_path, {"bias": golden.Configuration({}, (4,))}, make_layer=lambda units: version_1(2))
    with pytest.raises(golden.Mismatch, match="layer 0's 'b'"):
        golden.check_weights_file(version_2, tmp_path / "bias", (4,))


def test_a_renamed_class_does_not_find_its_weights(tmp_path):
    """keras-team/keras#19373: a ``.weights.h5`` file (Keras 3, and tf_keras's new format too) finds a layer by its
    class's name, so a class renamed (or a subclass put in its place) loads no variables (the legacy ``.h5`` found
    them by layer name)."""
    version_1 = _square_layer("ab")
    golden.write_set(version_1, tmp_path, {"bias": golden.Configuration({}, (4,))}, make_layer=lambda units: version_1(2))
    renamed = type("RenamedSquare", (version_1,), {})
    with pytest.raises(golden.Mismatch, match="expected 2 variables, but received 0 variables"):
        golden.check_weights_file(renamed, tmp_path / "bias", (4,))


VERSIONED = GOLDEN / "versioned"


@pytest.mark.skipif(GENERATION == 2, reason="the versioned layers are keras.ops layers: Keras 3 only")
@pytest.mark.parametrize("spec, failing_check", [
    ("mutants.compatibility:RenamedOptionDense", "config"),
    ("mutants.compatibility:RenamedPackageDense", "keras_file"),
    ("mutants.compatibility:ScaleDividesDense", "outputs"),
    ("tests.correct_layers.versioned_refactor:RefactoredVersionedDense", None),
])
def test_each_version_2_fails_the_check_its_mistake_breaks(spec, failing_check):
    """Against version 1's set, each mutant fails the check of its one mistake; the correct refactor none."""
    import importlib

    module, _, name = spec.partition(":")
    cls = getattr(importlib.import_module(module), name)
    directory = VERSIONED / name
    assert directory == (Path(importlib.import_module(module).__file__).parent / cls.layer_spec_golden).resolve()
    if failing_check is None:
        assert _check_every_configuration(cls, directory) == ["bias", "scaled"]
        return
    with pytest.raises(golden.Mismatch) as caught:
        _check_every_configuration(cls, directory)
    expected = {"config": "from_config", "keras_file": "load_model", "outputs": "outputs against the saved"}
    assert expected[failing_check] in caught.value.what


# --- the Keras 2 to Keras 3 migration check (a child process saves with Keras 2: the full tier)

MIGRATION_CASES = {
    # class -> the Keras 2 formats Keras 3 loads with equal outputs (today's tf_keras 2.21 and Keras 3.15)
    "layers:MyDenseLayer": {"model.h5", "weights.h5", "resaved.keras", "resaved.weights.h5"},
    "tests.migration_layers:OptimizedDense": {"model.h5", "weights.h5", "resaved.keras", "resaved.weights.h5"},
}


@FULL
@pytest.mark.skipif(GENERATION == 2, reason="the migration check loads into Keras 3: run it without TF_USE_LEGACY_KERAS")
@pytest.mark.skipif(BACKEND != "tensorflow", reason="Keras 2 files are TensorFlow's; TFSMLayer (the SavedModel's way "
                    "through) runs on TensorFlow only")
@pytest.mark.parametrize("spec", sorted(MIGRATION_CASES))
def test_migration_check_reports_every_keras2_format(spec, tmp_path, capsys):
    """Keras 2 saves the four formats in a child; Keras 3 loads .h5 model and weights and the re-saved files with
    equal outputs, refuses the checkpoint and the SavedModel, and the SavedModel still serves through TFSMLayer."""
    import argparse

    from spec_tests.harness import migrate

    code = migrate.main(argparse.Namespace(impl=spec, legacy_impl=None, keep=str(tmp_path)))
    printed = capsys.readouterr().out
    assert code == 0, printed
    outcomes = migrate.load_keras3(__import__("spec_tests.harness.impls", fromlist=["load_impl"]).load_impl(spec)[0],
                                   tmp_path)
    assert {o.file for o in outcomes if o.loads and o.equal} == MIGRATION_CASES[spec], printed
    saved_model = next(o for o in outcomes if o.file == "saved_model")
    assert "TFSMLayer tried: equal outputs" in saved_model.way, printed
    assert "Keras 3 only supports" in next(o for o in outcomes if o.file.startswith("checkpoint")).detail
