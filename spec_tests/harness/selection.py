"""Selection: the one place where the implementation under test and its profile are chosen.


* ``--impl SPEC`` or ``LAYER_SPEC_IMPL``: ``dotted.module:Class`` or ``path/to/file.py:Class``;
* ``--profile dense|seed`` or ``LAYER_SPEC_PROFILE``: which contract the class promises;
* the capabilities it claims beyond that contract (:func:`claimed_capabilities`): its class attribute
  ``layer_spec_capabilities``, ``--capabilities a,b`` or ``LAYER_SPEC_CAPABILITIES``.

Everything else (the clauses' fixtures, the report, the benchmarks) receives
the choice through :func:`spec_state` or :func:`active`. This part also prints
the run's header and skips the clauses a profile does not promise. It stays
dormant in pytest runs that do not collect ``spec_tests`` and name no
implementation, so installing the package never slows down or changes another
project's test run.
"""

from __future__ import annotations

import dataclasses
import importlib
import importlib.util
import inspect
import os
import sys
from pathlib import Path

import pytest

from spec_tests.harness import capabilities
from spec_tests.harness.catalogue import (
    CAPABILITIES, CAPABILITY_MARKER, DEFAULT_PROFILE, PROFILES, SEED_MARKER, capability_of, is_spec_item,
)

DEFAULT_IMPL = "layers:MyDenseLayer"
#: The class attribute by which a layer claims capabilities: a name or a sequence of names.
CAPABILITIES_ATTRIBUTE = "layer_spec_capabilities"


class ImplSpecError(Exception):
    """The ``--impl`` value cannot be turned into a Keras layer class."""


@dataclasses.dataclass(frozen=True)
class SpecState:
    spec: str
    cls: type
    profile: str
    source: str
    capabilities: frozenset = frozenset()  # the capabilities the class claims (see claimed_capabilities)

    @property
    def label(self) -> str:
        return f"{self.cls.__module__}.{self.cls.__qualname__}"


_STATE_KEY = pytest.StashKey[SpecState]()
_CONFIG: list = []


def add_option(parser, flag: str, help: str, **kwargs) -> None:
    """Add ``--flag`` to the spec's option group, stored as ``layer_spec_<flag>`` (default None)."""
    group = parser.getgroup("layer-spec", "executable spec for custom Keras dense layers")
    kwargs.setdefault("dest", "layer_spec_" + flag.lstrip("-").replace("-", "_"))
    kwargs.setdefault("default", None)
    group.addoption(flag, help=help, **kwargs)


def pytest_addoption(parser):
    add_option(parser, "--impl", metavar="SPEC",
               help="layer class under test: dotted.module:Class or path/to/file.py:Class "
               f"(default: $LAYER_SPEC_IMPL, else {DEFAULT_IMPL})")
    add_option(parser, "--profile", choices=tuple(PROFILES),
               help="contract the class promises: dense (default) or seed (the tutorial's Cls(num_outputs), kernel "
               "only); default: $LAYER_SPEC_PROFILE, else dense")
    add_option(parser, "--capabilities", metavar="A,B",
               help="capabilities the class claims beyond the core contract, comma-separated, on top of its class "
               f"attribute {CAPABILITIES_ATTRIBUTE}: {', '.join(CAPABILITIES)} (default: $LAYER_SPEC_CAPABILITIES)")


#: Classes handed over as objects (the in-process API), by the private spec that names them.
_OBJECTS: dict[str, type] = {}
_OBJECT_PREFIX = "layer-spec-object:"


def register_object(cls: type) -> str:
    """A spec for a class object: ``module:Class`` when that imports to the very same class, else a private
    ``layer-spec-object:<module>.<Class>#<n>`` that :func:`load_impl` resolves in this process only."""
    spec = f"{cls.__module__}:{cls.__qualname__}"
    try:
        if load_impl(spec)[0] is cls:
            return spec
    except ImplSpecError:
        pass
    key = f"{_OBJECT_PREFIX}{cls.__module__}.{cls.__qualname__}#{len(_OBJECTS)}"
    _OBJECTS[key] = cls
    return key


def load_impl(spec: str) -> tuple[type, str]:
    """Import the class named by ``spec``; return it and the file it came from."""
    from spec_tests import generation

    if spec in _OBJECTS:
        cls = _OBJECTS[spec]
        return cls, str(inspect.getsourcefile(cls) or "?") if _has_source(cls) else "?"
    module_part, sep, class_name = spec.strip().rpartition(":")
    if not sep or not module_part or not class_name:
        raise ImplSpecError(
            f"--impl {spec!r}: expected 'dotted.module:Class' or 'path/to/file.py:Class'"
        )
    if module_part.endswith(".py") or "/" in module_part or os.sep in module_part:
        module = _import_file(spec, Path(module_part))
    else:
        try:
            module = importlib.import_module(module_part)
        except ImportError as exc:
            raise ImplSpecError(f"--impl {spec!r}: cannot import module {module_part!r}: {exc}") from exc
    try:
        cls = getattr(module, class_name)
    except AttributeError as exc:
        raise ImplSpecError(
            f"--impl {spec!r}: module {module.__name__!r} ({getattr(module, '__file__', '?')}) "
            f"has no attribute {class_name!r} ({exc})"
        ) from None
    if not inspect.isclass(cls) or not issubclass(cls, generation.Layer):
        hint = ""
        if inspect.isclass(cls) and _is_other_generation_layer(cls):
            other = "tf_keras" if generation.LEGACY else "keras"
            hint = (
                f" It is a layer of the other Keras generation: this session runs Keras {generation.GENERATION}"
                f" (TF_USE_LEGACY_KERAS={'1' if generation.LEGACY else 'unset'}), and {other} layers belong to the other one."
                + (" Use --impl tf_keras.layers:Dense for legacy Keras 2's own Dense." if generation.LEGACY else "")
            )
        raise ImplSpecError(
            f"--impl {spec!r}: {class_name} is not a subclass of {generation.Layer.__module__}.Layer "
            f"(got {cls!r}).{hint}"
        )
    source = inspect.getsourcefile(cls) or getattr(module, "__file__", None) or "?"
    return cls, str(source)


def _has_source(cls) -> bool:
    try:
        return inspect.getsourcefile(cls) is not None
    except TypeError:
        return False


def _is_other_generation_layer(cls) -> bool:
    return any(base.__module__.split(".")[0] in ("keras", "tf_keras") and base.__name__ == "Layer" for base in cls.__mro__)


def _import_file(spec: str, path: Path):
    path = path.expanduser()
    if not path.is_file():
        raise ImplSpecError(f"--impl {spec!r}: no such file {str(path)!r} (from {os.getcwd()})")
    path = path.resolve()
    folder = str(path.parent)
    if folder not in sys.path:
        sys.path.insert(0, folder)  # so that the file can import its neighbours
    name = path.stem
    existing = sys.modules.get(name)
    if existing is not None and Path(getattr(existing, "__file__", "") or "").resolve() == path:
        return existing
    if existing is not None:
        name = f"_layer_spec_impl_{name}"
    module_spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(module_spec)
    sys.modules[name] = module
    try:
        module_spec.loader.exec_module(module)
    except Exception as exc:
        del sys.modules[name]
        raise ImplSpecError(f"--impl {spec!r}: importing {str(path)!r} failed: {type(exc).__name__}: {exc}") from exc
    return module


def _names(value, where: str) -> set[str]:
    """Capability names from ``"a, b"`` or a sequence of names; an unknown name is an ImplSpecError naming ``where``."""
    names = value.split(",") if isinstance(value, str) else list(value or ())
    names = {str(name).strip() for name in names} - {""}
    unknown = sorted(names - set(CAPABILITIES))
    if unknown:
        raise ImplSpecError(f"{where}: unknown capability(ies) {', '.join(map(repr, unknown))}; "
                            f"known: {', '.join(CAPABILITIES)}")
    return names


def claimed_capabilities(config, cls) -> frozenset[str]:
    """The capabilities the class under test claims: the one place they are resolved.

    * the running generation's own ``keras.layers.Dense`` claims what the catalogue says it has on this generation
      and backend (so ``--impl keras.layers:Dense`` checks Dense's capabilities);
    * any class claims the names in its attribute ``layer_spec_capabilities`` (inherited like any attribute);
    * and those of ``--capabilities a,b``, else of ``LAYER_SPEC_CAPABILITIES``.

    An unknown name is an :class:`ImplSpecError`. Further sources (pytest ini keys) belong here too, so that
    every claim is resolved in this one function.
    """
    from spec_tests import generation

    claimed = set(capabilities.dense_capabilities(*capabilities.runtime())) if cls is generation.Dense else set()
    claimed |= _names(getattr(cls, CAPABILITIES_ATTRIBUTE, ()), f"{cls.__qualname__}.{CAPABILITIES_ATTRIBUTE}")
    requested = config.getoption("layer_spec_capabilities", None)
    where = "--capabilities"
    if requested is None:
        requested, where = os.environ.get("LAYER_SPEC_CAPABILITIES", ""), "LAYER_SPEC_CAPABILITIES"
    return frozenset(claimed | _names(requested, where))


def _requested(config) -> tuple[str | None, str | None]:
    return (
        config.getoption("layer_spec_impl") or os.environ.get("LAYER_SPEC_IMPL") or None,
        config.getoption("layer_spec_profile") or os.environ.get("LAYER_SPEC_PROFILE") or None,
    )


def _runs_spec(config) -> bool:
    impl, profile = _requested(config)
    if impl or profile:
        return True
    return any("spec_tests" in str(place) for place in config.args)


@pytest.hookimpl(trylast=True)
def pytest_configure(config):
    config.addinivalue_line("markers", f"{SEED_MARKER}: the clause belongs to the seed profile's (tutorial) contract too")
    config.addinivalue_line("markers", "slow_clause: a clause that takes over a second; still part of the spec")
    config.addinivalue_line("markers", f"{CAPABILITY_MARKER}(name): the clause checks a capability beyond the core "
                            "contract; it runs only when the layer claims it")
    _CONFIG[:] = [config]
    if _runs_spec(config):
        resolve(config)
        _keep_hypothesis_out_of_cwd(config)


def _keep_hypothesis_out_of_cwd(config) -> None:
    """Hypothesis caches data in ``./.hypothesis`` while collecting; a spec run writes only under pytest's basetemp."""
    if os.environ.get("HYPOTHESIS_STORAGE_DIRECTORY"):
        return
    factory = getattr(config, "_tmp_path_factory", None)
    if factory is None:
        return
    from hypothesis.configuration import set_hypothesis_home_dir

    set_hypothesis_home_dir(factory.getbasetemp() / "hypothesis")


def resolve(config) -> SpecState:
    """Resolve ``--impl``/``--profile`` once; a bad value is a single usage error."""
    state = config.stash.get(_STATE_KEY, None)
    if state is not None:
        return state
    impl, profile = _requested(config)
    impl = impl or DEFAULT_IMPL
    profile = profile or DEFAULT_PROFILE
    if profile not in PROFILES:
        raise pytest.UsageError(f"--profile/LAYER_SPEC_PROFILE {profile!r}: expected one of {', '.join(PROFILES)}")
    try:
        cls, source = load_impl(impl)
        claimed = claimed_capabilities(config, cls)
    except ImplSpecError as exc:
        raise pytest.UsageError(str(exc)) from None
    from spec_tests.harness import portable

    refusal = portable.refusal(cls)  # a TensorFlow-only layer on another backend: one message, not one per clause
    if refusal:
        raise pytest.UsageError(f"--impl {impl!r}: {refusal}")
    state = SpecState(spec=impl, cls=cls, profile=profile, source=source, capabilities=claimed)
    config.stash[_STATE_KEY] = state
    return state


def spec_state() -> SpecState:
    """The implementation and profile of this run (for fixtures and tools)."""
    return resolve(_CONFIG[0])


def pytest_report_header(config):
    state = config.stash.get(_STATE_KEY, None)
    if state is None:
        return None
    from spec_tests import generation

    return [
        f"layer-spec: impl {state.spec} -> {state.label} ({state.source})",
        f"layer-spec: profile {state.profile}: {PROFILES[state.profile]}",
        f"layer-spec: capabilities claimed: {', '.join(sorted(state.capabilities)) or 'none'}; keras Dense has here: "
        f"{', '.join(capabilities.dense_capabilities(*capabilities.runtime())) or 'none'}",
        f"layer-spec: {generation.describe()}",
    ]


def pytest_collection_modifyitems(config, items):
    state = config.stash.get(_STATE_KEY, None)
    if state is None:
        if not any(is_spec_item(item) for item in items):
            return
        state = resolve(config)
    if state.profile == "seed":
        skip = pytest.mark.skip(reason="not in the seed profile's contract (Cls(num_outputs), kernel only)")
        for item in items:
            if is_spec_item(item) and item.get_closest_marker(SEED_MARKER) is None:
                item.add_marker(skip)
    runtime = capabilities.runtime()
    for item in items:
        name = capability_of(item) if is_spec_item(item) else None
        reason = name and capabilities.skip_reason(name, state.capabilities, *runtime)
        if reason:
            item.add_marker(pytest.mark.skip(reason=reason))


def active(config) -> SpecState | None:
    """The run's resolved implementation and profile, or None while this pytest run does not involve the spec.

    For the other plugin parts (report, benchmarks): they stay dormant while this returns None.
    It never resolves anything itself.
    """
    return config.stash.get(_STATE_KEY, None)
