"""Compatibility: files saved with an earlier version of the layer (or of Keras) still load, into the right variables.

The clauses read a *golden set* (``spec_tests/harness/golden.py``, docs/compatibility.md): per configuration of
the layer, the ``.keras`` file and ``.weights.h5`` of a model holding two instances, both layers' configs, and the
inputs and outputs. Where the set comes from:

* ``--spec-golden DIR`` (``$LAYER_SPEC_GOLDEN``, ini ``layer_spec_golden``), else the class attribute
  ``layer_spec_golden`` (a directory relative to the class's file): a set an earlier version wrote, read with
  the current code; ``--spec-golden-update`` writes (or rewrites) it first.
* Neither: the clauses write a set of the current code to a temporary directory and read it back from disk in
  a fresh Keras session, in this process (a child process would cost a TensorFlow import, some 4 s, against
  the whole spec's 10 s budget), with few configurations: the fixed ``activation`` one (``bias`` for a layer that
  takes no options) and those the layer declares (``layer_spec_configurations``).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from spec_tests import generation
from spec_tests.harness import golden, golden_options
from spec_tests.helpers import fail, skip_not_offered

#: The fixed configurations a run without a golden set writes: the first the layer offers.
DEFAULT_CONFIGURATIONS = ("activation", "bias")


@dataclasses.dataclass
class GoldenSet:
    """A set on disk and the configurations of it the clauses read."""

    directory: Path
    manifest: dict
    origin: str  # where it came from, for messages

    @property
    def saved_name(self) -> str:
        return self.manifest["layer"]["registered_name"]

    def configurations(self):
        """(name, folder, input shape) of each configuration this process's Keras can read (skip when none)."""
        readable = [name for name in sorted(self.manifest["configurations"])
                    if golden.unreadable_here(self.manifest, name) is None]
        if not readable:
            pytest.skip(f"no configuration of {self.origin} is readable here: " + "; ".join(sorted({
                golden.unreadable_here(self.manifest, name) for name in self.manifest["configurations"]})))
        for name in readable:
            yield name, self.directory / name, tuple(self.manifest["configurations"][name]["input_shape"])

    def what(self, name: str) -> str:
        return f"configuration {name!r} of the golden set {self.origin} ({golden.saved_by(self.manifest)})"


_written: dict = {}  # (class, profile, set or this session's temporary folder) -> GoldenSet: written once per run


def _offered(make_layer, configurations: dict) -> dict:
    """The configurations whose options the layer takes (the custom and seed profiles offer fewer)."""
    offered = {}
    for name, configuration in configurations.items():
        try:
            make_layer(golden.UNITS[0], **configuration.kwargs)
        except (pytest.skip.Exception, AssertionError):  # not offered (custom), or options at all (seed)
            continue
        offered[name] = configuration
    return offered


def _write(layer_cls, make_layer, directory: Path, configurations: dict, update: bool) -> None:
    offered = _offered(make_layer, configurations)
    if not offered:
        skip_not_offered(f"every configuration of the golden set needs an option the layer does not take "
                         f"({', '.join(configurations)})")
    try:
        golden.write_set(layer_cls, directory, offered, make_layer=make_layer, update=update)
    except Exception as exc:  # noqa: BLE001 - a layer that cannot be saved is the finding
        fail(f"writing the golden set to {directory}", "the saved files", f"{type(exc).__name__}: {exc}",
             "the layer must save with model.save(...keras) and model.save_weights(...weights.h5)")
    generation.clear_session()  # read back in a fresh Keras session


@pytest.fixture
def golden_set(request, layer_impl, layer_cls, make_layer, profile, tmp_path_factory) -> GoldenSet:
    source = golden_options.source(request.config, layer_cls)
    # a process may serve several pytest sessions (the pool's workers): a temporary set is this session's only
    key = (layer_cls, profile, source.directory if source else tmp_path_factory.getbasetemp())
    if key not in _written:
        if source is None:
            directory = tmp_path_factory.mktemp("golden") / layer_cls.__name__
            declared = golden.declared_configurations(layer_cls, golden_options.ini_configurations(request.config))
            fixed = {name: golden.FIXED[name] for name in DEFAULT_CONFIGURATIONS}
            first = next(iter(_offered(make_layer, fixed)), "bias")
            _write(layer_cls, make_layer, directory, {first: golden.FIXED[first], **declared}, update=False)
            origin = "written and read back by this run"
        else:
            directory, origin = source.directory, source.origin
            if source.update:
                configurations = {**golden.FIXED, **golden.declared_configurations(
                    layer_cls, golden_options.ini_configurations(request.config))}
                _write(layer_cls, make_layer, directory, configurations, update=True)
        try:
            manifest = golden.read_manifest(directory)
        except FileNotFoundError as exc:
            fail("the golden set", f"a set at {directory}", str(exc),
                 "write it first: pytest --impl X --spec-golden DIR --spec-golden-update, or layer-spec golden write")
        _written[key] = GoldenSet(directory, manifest, f"{directory} ({origin})")
    return _written[key]


def _check(check, golden_set: GoldenSet, name: str) -> None:
    try:
        check()
    except golden.Mismatch as mismatch:
        fail(f"{golden_set.what(name)}: {mismatch.what}", mismatch.expected, mismatch.seen, mismatch.hint)


def test_saved_configs_rebuild_the_layer(layer_cls, golden_set):
    """Every layer config the golden set saved rebuilds a layer with the current code (``from_config``)."""
    for name, folder, _ in golden_set.configurations():
        _check(lambda: golden.check_config(layer_cls, folder), golden_set, name)


def test_keras_files_load_as_the_class_with_the_saved_outputs(layer_cls, golden_set):
    """Every saved ``.keras`` file loads, as the class, under the name it was saved as, and gives the saved outputs."""
    for name, folder, _ in golden_set.configurations():
        _check(lambda: golden.check_keras_file(layer_cls, folder, golden_set.saved_name), golden_set, name)
        generation.clear_session()


@pytest.mark.seed
def test_saved_weights_land_in_the_variables_they_were_saved_from(layer_cls, golden_set, profile, make_layer):
    """Every saved ``.weights.h5`` loads into a model built from the saved configs, each weight into the variable of its name, with the saved outputs."""
    for name, folder, input_shape in golden_set.configurations():
        # the seed profile promises Cls(units) and its weights, not a config: its model is built by hand
        layers = [make_layer(units) for units in golden.UNITS] if profile == "seed" else None
        _check(lambda: golden.check_weights_file(layer_cls, folder, input_shape, layers), golden_set, name)
        generation.clear_session()
