"""Damaged files: a truncated or corrupted ``.keras`` or ``.weights.h5`` file raises a clear error and loads nothing.

Each damage is a row of :data:`KERAS_DAMAGES` or :data:`WEIGHTS_DAMAGES`: a function that writes a damaged
copy of a good file, and the words its error names. Loading the copy into a model that holds the layer
under test must raise, and leave every weight of that model bit-identical (MUST); ``keras.saving.load_model``
has no target to protect, so it must just raise. That the error names the problem is a SHOULD clause.

Not stated here, because Keras's own ``Dense`` does not promise it (measured on Keras 3.15 and tf-keras 2.21):
HDF5 has no checksums, so random bytes written into the middle of a ``.weights.h5`` file can load silently as
wrong values; and a weights file whose bias entry has the wrong shape loads the kernel before it fails.
"""

from __future__ import annotations

import dataclasses
import shutil
import warnings
import zipfile
from pathlib import Path
from typing import Callable

import h5py
import numpy as np
import pytest

from spec_tests import generation
from spec_tests.generation import keras
from spec_tests.helpers import (
    assert_weights_unchanged,
    expect_raises,
    expect_raises_naming,
    expect_that,
    random_array,
    to_numpy,
    weight_values,
)

INPUT_DIM = 5
UNITS = 3
WEIGHTS_MEMBER = "model.weights.h5"  # the weights inside a .keras zip


# ----------------------------------------------------------------------------------------------------
# Damages: each writes a damaged copy of ``good`` to ``bad``
# ----------------------------------------------------------------------------------------------------


def _bytes_damage(change: Callable[[bytes], bytes]):
    def damage(good: Path, bad: Path) -> None:
        bad.write_bytes(change(good.read_bytes()))

    return damage


def _random_bytes(count: int, seed: int = 0) -> bytes:
    return np.random.default_rng(seed).integers(0, 256, count, dtype=np.uint8).tobytes()


truncated_to_half = _bytes_damage(lambda data: data[: len(data) // 2])
zero_bytes = _bytes_damage(lambda data: b"")
random_bytes_in_the_middle = _bytes_damage(
    lambda data: data[: len(data) // 2 - 64] + _random_bytes(128) + data[len(data) // 2 + 64:]
)
signature_overwritten = _bytes_damage(lambda data: _random_bytes(8, seed=1) + data[8:])


def _rewrite_zip(change_member: Callable[[str, bytes], bytes | None]):
    """Copy the zip, passing each member through ``change_member`` (None drops the member)."""

    def damage(good: Path, bad: Path) -> None:
        with zipfile.ZipFile(good) as source, zipfile.ZipFile(bad, "w") as target:
            for name in source.namelist():
                data = change_member(name, source.read(name))
                if data is not None:
                    target.writestr(name, data)

    return damage


weights_member_removed = _rewrite_zip(lambda name, data: None if name == WEIGHTS_MEMBER else data)
weights_member_truncated = _rewrite_zip(lambda name, data: data[: len(data) // 2] if name == WEIGHTS_MEMBER else data)


def _datasets(h5file) -> list[str]:
    found = []
    h5file.visititems(lambda name, item: found.append(name) if isinstance(item, h5py.Dataset) else None)
    return found


def _edit_h5(change: Callable[[h5py.File, list[str]], None]):
    def damage(good: Path, bad: Path) -> None:
        shutil.copyfile(good, bad)
        with h5py.File(bad, "r+") as h5file:
            change(h5file, _datasets(h5file))

    return damage


def _drop_last_entry(h5file, datasets):
    del h5file[datasets[-1]]  # the layer's last weight: the bias


def _add_an_entry(h5file, datasets):
    group, _, last = datasets[-1].rpartition("/")
    # Keras numbers the entries ("0", "1"); a layer with its own save_own_variables may name them ("kernel").
    extra = str(int(last) + 1) if last.isdigit() else f"{last}_unexpected"
    h5file.create_dataset(f"{group}/{extra}", data=np.zeros(UNITS, np.float32))


bias_entry_removed = _edit_h5(_drop_last_entry)
extra_entry_added = _edit_h5(_add_an_entry)


@dataclasses.dataclass(frozen=True)
class Damage:
    id: str
    damage: Callable[[Path, Path], None]
    names: tuple  # words the error must contain; a tuple entry is a set of alternatives


FORMAT_HINT = "keep Keras's own saving: do not override save_own_variables/load_own_variables or catch load errors"
LOAD_HINT = ("load_own_variables must check that the store holds exactly one entry per weight before assigning "
             "any, as Layer.load_own_variables does")

KERAS_DAMAGES = [
    Damage(".keras truncated to half", truncated_to_half, (("zip", "signature"),)),
    Damage(".keras of zero bytes", zero_bytes, (("zip", "signature"),)),
    Damage(".keras with 128 random bytes in the middle", random_bytes_in_the_middle, ("crc",)),
    Damage(f".keras without its {WEIGHTS_MEMBER} member", weights_member_removed, (WEIGHTS_MEMBER,)),
    Damage(f".keras whose {WEIGHTS_MEMBER} member is truncated", weights_member_truncated, ("truncated",)),
]
WEIGHTS_DAMAGES = [
    Damage(".weights.h5 truncated to half", truncated_to_half, ("truncated",)),
    Damage(".weights.h5 of zero bytes", zero_bytes, ("signature",)),
    Damage(".weights.h5 with its HDF5 signature overwritten", signature_overwritten, ("signature",)),
    Damage(".weights.h5 without the bias entry", bias_entry_removed, ("variables",)),
    Damage(".weights.h5 with an extra entry for the layer", extra_entry_added, ("variables",)),
]


# ----------------------------------------------------------------------------------------------------
# Models and files
# ----------------------------------------------------------------------------------------------------


def _model(layer, seed: int):
    """A Sequential model around ``layer``, with seeded weights so that no two models share values."""
    model = keras.Sequential([keras.Input((INPUT_DIM,)), layer])
    model.set_weights([random_array(tuple(w.shape), seed + i) for i, w in enumerate(model.weights)])
    return model


@pytest.fixture(scope="module")
def good_files(tmp_path_factory, layer_impl):
    """A model around the layer under test, saved once per module as ``source.keras`` and ``source.weights.h5``.

    The files are only read (each clause damages its own copy); they are written in a clean, seeded
    session so that their content does not depend on which clause ran first.
    """
    generation.clear_session()
    generation.set_seed(10)
    folder = tmp_path_factory.mktemp("good_files")
    model = _model(layer_impl.make(UNITS), seed=10)
    files = {".keras": folder / "source.keras", ".weights.h5": folder / "source.weights.h5"}
    model.save(str(files[".keras"]))
    model.save_weights(str(files[".weights.h5"]))
    return files


def _suffix(damage: Damage) -> str:
    return ".keras" if damage.id.startswith(".keras") else ".weights.h5"


def _damaged(good_files, tmp_path, damage: Damage) -> Path:
    suffix = _suffix(damage)
    bad = tmp_path / f"damaged{suffix}"
    damage.damage(good_files[suffix], bad)
    return bad


# ----------------------------------------------------------------------------------------------------
# Clauses
# ----------------------------------------------------------------------------------------------------


def _load_weights(good_files, tmp_path, make_layer, damage):
    """A model around a new layer, and the action that loads the damaged copy into it."""
    bad = _damaged(good_files, tmp_path, damage)
    target = _model(make_layer(UNITS), seed=20)
    return target, lambda: target.load_weights(str(bad))


def _load_model(good_files, tmp_path, damage):
    bad = _damaged(good_files, tmp_path, damage)
    return lambda: keras.saving.load_model(str(bad))


@pytest.mark.parametrize("damage", KERAS_DAMAGES + WEIGHTS_DAMAGES, ids=lambda d: f"load_weights({d.id}) -> refused")
def test_damaged_file_is_refused_and_loads_nothing(good_files, tmp_path, make_layer, damage):
    """``model.load_weights`` of a damaged file raises, and the model's weights stay bit-identical."""
    target, load = _load_weights(good_files, tmp_path, make_layer, damage)
    before = weight_values(target)
    expect_raises(load, f"load_weights of a {damage.id}", FORMAT_HINT)
    assert_weights_unchanged(target, before, f"weights after load_weights of a {damage.id} failed")


@pytest.mark.parametrize("damage", KERAS_DAMAGES, ids=lambda d: f"load_model({d.id}) -> refused")
def test_damaged_keras_file_is_refused_by_load_model(good_files, tmp_path, damage):
    """``keras.saving.load_model`` of a damaged ``.keras`` file raises, never returns a half-loaded model."""
    expect_raises(_load_model(good_files, tmp_path, damage), f"load_model of a {damage.id}", FORMAT_HINT)


@pytest.mark.should
@pytest.mark.parametrize("damage", KERAS_DAMAGES + WEIGHTS_DAMAGES, ids=lambda d: f"load_weights({d.id}) -> error")
def test_damaged_file_error_names_the_problem(good_files, tmp_path, make_layer, damage):
    """The error ``model.load_weights`` raises for a damaged file names the problem (zip, crc, truncated, signature, the count of variables), as for Dense."""
    _, load = _load_weights(good_files, tmp_path, make_layer, damage)
    expect_raises_naming(load, Exception, damage.names, what=f"load_weights of a {damage.id}", hint=FORMAT_HINT)


def test_intact_files_load(good_files, make_layer):
    """The undamaged files load: ``load_weights`` restores every weight and ``load_model`` gives the same outputs (the damage is the only difference)."""
    source = keras.saving.load_model(str(good_files[".keras"]))
    x = random_array((4, INPUT_DIM), seed=3)
    target = _model(make_layer(UNITS), seed=20)
    target.load_weights(str(good_files[".weights.h5"]))
    expected = weight_values(source)
    seen = weight_values(target)
    expect_that(len(seen) == len(expected) and all(np.array_equal(a, b) for a, b in zip(seen, expected)),
                "weights after load_weights of the intact file", "the saved values", "other values", LOAD_HINT)
    expect_that(np.array_equal(to_numpy(target(x)), to_numpy(source(x))), "outputs of the two reloaded models",
                "identical", "different")


def _double(t):
    return t * 2.0


def test_keras_file_with_a_lambda_layer_needs_safe_mode_false(tmp_path, make_layer):
    """A ``.keras`` file whose model holds a ``Lambda`` of a Python lambda is refused by default and loads with ``safe_mode=False``."""
    model = _model(make_layer(UNITS), seed=30)
    model.add(keras.layers.Lambda(lambda t: t * 2.0))
    path = tmp_path / "lambda_layer.keras"
    model.save(str(path))
    # Keras raises ValueError naming safe_mode here; that form is Keras's, the layer under test cannot change it.
    expect_raises(lambda: keras.saving.load_model(str(path)),
                  "load_model of a file with a Python lambda, safe_mode left at its default")
    reloaded = keras.saving.load_model(str(path), safe_mode=False)
    x = random_array((4, INPUT_DIM), seed=3)
    expect_that(np.array_equal(to_numpy(reloaded(x)), to_numpy(model(x))), "outputs after load_model(safe_mode=False)",
                "identical to the saved model's", "different")


ACTIVATION_HINT = "serialize the activation with keras.activations.serialize in get_config, as Dense does"


def _saved_with_a_lambda_activation(tmp_path, make_layer):
    model = keras.Sequential([keras.Input((INPUT_DIM,)), make_layer(UNITS, activation=lambda t: t * 2.0)])
    path = tmp_path / "lambda_activation.keras"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Keras warns that it serializes a lambda
        model.save(str(path))
    return lambda: keras.saving.load_model(str(path))


def test_keras_file_with_a_lambda_activation_is_refused(tmp_path, make_layer):
    """A ``.keras`` file whose layer has a Python lambda as activation is refused by ``load_model`` with an error, never silently loaded."""
    expect_raises(_saved_with_a_lambda_activation(tmp_path, make_layer),
                  "load_model of a file whose activation is a Python lambda", ACTIVATION_HINT)


@pytest.mark.should
def test_keras_file_with_a_lambda_activation_error_names_deserialization(tmp_path, make_layer):
    """The error ``load_model`` raises for a Python lambda as activation says that it refuses to deserialize it, as for Dense."""
    expect_raises_naming(_saved_with_a_lambda_activation(tmp_path, make_layer), Exception, ("deserializ",),
                         what="load_model of a file whose activation is a Python lambda", hint=ACTIVATION_HINT)
