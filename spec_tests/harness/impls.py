"""Implementations: turn an ``--impl`` value into a Keras layer class or a factory, and name it.

An implementation is written ``dotted.module:Name`` or ``path/to/file.py:Name`` (a file is imported by its path;
its folder is appended to ``sys.path`` for its neighbours, never put ahead of the standard library),
optionally followed by ``@<profile>`` (``mypkg.layers:TinyDense@seed``) to give it its own profile. ``Name`` is a
layer class, or a *factory*: a callable that takes ``(units, **dense_options)`` and returns a layer
(``EinsumDense`` with its equation, a wrapper around ``Dense``, a layer whose constructor takes a config object).
:func:`load_impl` imports it; :func:`made_class` is the class a factory returns. A class handed over as an object
(the in-process API) is registered with :func:`register_object`. :class:`SpecState` is one resolved
implementation, with the short id that test ids carry when a run checks several. Its declarations
(``layer_spec_*`` attributes: capabilities, options, the forward contract) are read from the factory first, then
from the class (:meth:`SpecState.declared`), so an adapter file can declare them for a layer it cannot edit.
"""

from __future__ import annotations

import dataclasses
import importlib
import importlib.util
import inspect
import os
import re
import sys
from pathlib import Path

from spec_tests.harness.catalogue import PROFILES


class ImplSpecError(Exception):
    """The ``--impl`` value cannot be turned into a Keras layer class."""


@dataclasses.dataclass(frozen=True)
class SpecState:
    """One implementation of a run: the value that named it, the class, its profile and claimed capabilities."""

    spec: str
    cls: type  # the layer class (for a factory: the class of the layers it returns)
    profile: str
    source: str
    capabilities: frozenset = frozenset()  # the capabilities the class claims (selection.claimed_capabilities)
    options: tuple = ()  # the options declared for it by the run's settings (--options; harness/options.py)
    id: str = ""  # its short name in test ids when a run checks several implementations
    factory: object = None  # the factory that makes its layers, or None when the class is constructed directly

    @property
    def make(self):
        """What makes a layer: ``make(units, **options)``, the factory or the class."""
        return self.factory or self.cls

    @property
    def label(self) -> str:
        made = f"{self.cls.__module__}.{self.cls.__qualname__}"
        return f"factory {_qualname(self.factory)} returning {made}" if self.factory else made

    def declared(self, name: str, default=None):
        """The declaration ``name`` (a ``layer_spec_*`` attribute): the factory's, else the class's, else ``default``."""
        for owner in (self.factory, self.cls):
            if owner is not None and hasattr(owner, name):
                return getattr(owner, name)
        return default

    @property
    def choice(self) -> str:
        """How to name this implementation and its profile again: ``spec`` or ``spec@profile``."""
        return self.spec if self.profile == "dense" else f"{self.spec}@{self.profile}"


def split_choice(value: str) -> tuple[str, str | None]:
    """``"pkg.mod:Cls@seed"`` -> (``"pkg.mod:Cls"``, ``"seed"``); without a known ``@profile`` suffix: (value, None)."""
    spec, sep, profile = value.strip().rpartition("@")
    if sep and profile in PROFILES and ":" in spec:
        return spec, profile
    return value.strip(), None


def short_ids(states) -> list[str]:
    """A short, unique id per implementation: its class name, made unique with its module or a number."""
    names = [state.make.__qualname__ for state in states]
    ids = []
    for state, name in zip(states, names):
        candidate = name if names.count(name) == 1 else f"{state.make.__module__}.{name}"
        candidate = re.sub(r"[^\w.@]+", "_", candidate)
        while candidate in ids:
            candidate += "_"
        ids.append(candidate)
    return ids


#: Classes handed over as objects (the in-process API), by the private spec that names them.
_OBJECTS: dict[str, type] = {}
_OBJECT_PREFIX = "layer-spec-object:"


def importable(spec: str) -> bool:
    """Whether another process can load ``spec`` (a class handed over as an object lives in this process only)."""
    return not spec.startswith(_OBJECT_PREFIX)


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


def _qualname(obj) -> str:
    return f"{getattr(obj, '__module__', '?')}.{getattr(obj, '__qualname__', type(obj).__name__)}"


def is_factory(maker) -> bool:
    """Whether ``maker`` (what :func:`load_impl` returns) is a factory rather than a layer class."""
    return not inspect.isclass(maker)


_MADE: dict = {}


def made_class(maker, spec: str = "") -> type:
    """The layer class ``maker`` makes: the class itself, or the class of ``maker(3)`` for a factory (called once,
    with Keras's global state saved and put back); a factory that fails or returns no layer is an ImplSpecError."""
    from spec_tests import generation

    if not is_factory(maker):
        return maker
    if maker not in _MADE:
        saved = generation.save_global_state()
        try:
            layer = maker(3)
        except Exception as exc:  # noqa: BLE001 - the factory's own error, named
            raise ImplSpecError(f"--impl {spec!r}: the factory {_qualname(maker)}(3) failed: "
                                f"{type(exc).__name__}: {exc}") from None
        finally:
            generation.restore_global_state(saved)
        if not isinstance(layer, generation.Layer):
            raise ImplSpecError(f"--impl {spec!r}: the factory {_qualname(maker)}(3) returned {type(layer).__name__}, "
                                f"not a {generation.Layer.__module__}.Layer: a factory takes (units, **options) and "
                                "returns a layer")
        _MADE[maker] = type(layer)
    return _MADE[maker]


def load_impl(spec: str) -> tuple[object, str]:
    """Import the layer class or factory named by ``spec``; return it and the file it came from. Either makes a
    layer with ``(units, **options)``; :func:`made_class` gives the class."""
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
    if callable(cls) and not inspect.isclass(cls):  # a factory: its class is checked by made_class
        return cls, str(_source_of(cls) or getattr(module, "__file__", None) or "?")
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
            f"(got {cls!r}), nor a factory (a callable taking (units, **options) and returning a layer).{hint}"
        )
    source = inspect.getsourcefile(cls) or getattr(module, "__file__", None) or "?"
    return cls, str(source)


def _source_of(obj) -> str | None:
    try:
        return inspect.getsourcefile(obj)
    except TypeError:
        return None


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
        # Appended, never ahead of the standard library: the file can import its neighbours, and a platform.py or
        # types.py beside it shadows nothing (the launcher's children follow the same rule).
        sys.path.append(folder)
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


__all__ = ["ImplSpecError", "SpecState", "is_factory", "load_impl", "made_class", "register_object", "short_ids",
           "split_choice"]
