"""Selection: the one place where the implementations under test, their profiles and claims are chosen.

* ``--impl SPEC`` (repeatable), else ``LAYER_SPEC_IMPL`` (comma- or newline-separated), else the ini key
  ``layer_spec_impl`` (one per line, e.g. in ``[tool.pytest.ini_options]``): ``dotted.module:Class`` or
  ``path/to/file.py:Class``, optionally ``@seed``/``@dense`` to give that class its own profile;
* ``--profile dense|seed``, else ``LAYER_SPEC_PROFILE``, else ``layer_spec_profile``: the contract promised by
  every implementation that names no profile of its own;
* the capabilities each claims beyond that contract (:func:`claimed_capabilities`): its class attribute
  ``layer_spec_capabilities``, plus ``--capabilities a,b``, else ``LAYER_SPEC_CAPABILITIES``, else the ini key
  ``layer_spec_capabilities``.

Flags win over the environment, which wins over the ini file. With several implementations every clause runs
once per implementation (the fixture ``layer_impl`` is parametrized, and test ids carry the implementation's
short id); with one, ids are the spec's own. Everything else receives the choice through the ``layer_impl``
fixture, :func:`state_of` (an item's implementation) or :func:`implementations`. This part also prints the run's
header and skips the clauses an implementation's profile or claims leave out. It stays dormant in pytest runs
that do not collect ``spec_tests`` and name no implementation by flag or environment.
"""

from __future__ import annotations

import os
import re

import pytest

from spec_tests import environment, forward
from spec_tests.harness import capabilities
from spec_tests.harness.catalogue import (
    CAPABILITIES, CAPABILITY_MARKER, DEFAULT_PROFILE, PROFILES, SEED_MARKER, capability_of, is_spec_item,
)
from spec_tests.harness.impls import (  # noqa: F401 - re-exported: the loading of a class lives in impls.py
    ImplSpecError, SpecState, is_factory, load_impl, made_class, register_object, short_ids, split_choice,
)

DEFAULT_IMPL = "layers:MyDenseLayer"
#: The class attribute by which a layer claims capabilities: a name or a sequence of names.
CAPABILITIES_ATTRIBUTE = "layer_spec_capabilities"
#: The fixture that carries one implementation (parametrized when a run checks several).
IMPL_FIXTURE = "layer_impl"

#: The spec's own warning filters, wherever it runs: the deprecation warnings that Keras, TensorFlow and their
#: dependencies raise while the spec imports and exercises them say nothing about the layer under test.
LIBRARY_WARNINGS = tuple(
    f"ignore::{category}:(keras|tf_keras|tensorflow|jax|jaxlib|torch|h5py|google|absl|numpy|ml_dtypes|optree|hypothesis)"
    for category in ("DeprecationWarning", "PendingDeprecationWarning", "FutureWarning")
)
#: The same filters, applied to every spec item too, where they outrank a host's ``-W error::DeprecationWarning``;
#: a warning the spec's own code (or the layer's) raises still shows.
CLAUSE_WARNINGS = LIBRARY_WARNINGS

_STATES = pytest.StashKey[tuple]()
_REFUSED = pytest.StashKey[list]()
_CONFIG: list = []


def add_option(parser, flag: str, help: str, ini: str | None = None, ini_type: str | None = None,
               **kwargs) -> None:
    """Add ``--flag`` to the spec's option group, stored as ``layer_spec_<flag>`` (default None), and, when
    ``ini`` is given, the pytest ini key of the same setting (read by :func:`setting`)."""
    group = parser.getgroup("layer-spec", "executable spec for custom Keras dense layers")
    kwargs.setdefault("dest", "layer_spec_" + flag.lstrip("-").replace("-", "_"))
    kwargs.setdefault("default", None)
    group.addoption(flag, help=help, **kwargs)
    if ini:
        parser.addini(ini, help=f"{help} (the ini form of {flag})", type=ini_type)


def setting(config, dest: str, env: str, ini: str | None = None):
    """A setting's value and where it came from: the flag, else the environment variable, else the ini key (by
    default the one that mirrors the variable: ``environment.INI_KEYS``)."""
    ini = ini or environment.INI_KEYS.get(env)
    value = config.getoption(dest, None)
    if value not in (None, [], False):
        return value, "--" + dest.removeprefix("layer_spec_").replace("_", "-")
    if os.environ.get(env, "").strip():
        return os.environ[env], env
    if ini:
        value = config.getini(ini)
        if value not in (None, "", [], False):
            return value, f"ini {ini}"
    return None, None


def pytest_addoption(parser):
    add_option(parser, "--impl", metavar="SPEC", action="append", ini="layer_spec_impl", ini_type="linelist",
               help="layer class under test, repeatable: dotted.module:Class or path/to/file.py:Class, optionally "
               f"@seed/@dense for its own profile (default: $LAYER_SPEC_IMPL, else {DEFAULT_IMPL})")
    add_option(parser, "--profile", choices=tuple(PROFILES), ini="layer_spec_profile", ini_type="string",
               help="contract the classes promise: dense (default: a drop-in keras.layers.Dense), custom (judged on "
               "the options the constructor takes and its own defaults) or seed (the tutorial's Cls(num_outputs), "
               "kernel only); default: $LAYER_SPEC_PROFILE, else dense")
    add_option(parser, "--options", metavar="A,B", ini="layer_spec_options", ini_type="string",
               help="the options of keras.layers.Dense the classes take, comma-separated, when their constructor "
               "takes them by hand (the spec measures them otherwise; class attribute layer_spec_options); the "
               "custom profile skips the clauses that need the others (default: $LAYER_SPEC_OPTIONS)")
    add_option(parser, "--capabilities", metavar="A,B", ini="layer_spec_capabilities", ini_type="string",
               help="capabilities the classes claim beyond the core contract, comma-separated, on top of their "
               f"class attribute {CAPABILITIES_ATTRIBUTE}: {', '.join(CAPABILITIES)} "
               "(default: $LAYER_SPEC_CAPABILITIES)")


def _names(value, where: str) -> set[str]:
    """Capability names from ``"a, b"`` or a sequence of names; an unknown name is an ImplSpecError naming ``where``."""
    names = value.split(",") if isinstance(value, str) else list(value or ())
    names = {str(name).strip() for name in names} - {""}
    unknown = sorted(names - set(CAPABILITIES))
    if unknown:
        raise ImplSpecError(f"{where}: unknown capability(ies) {', '.join(map(repr, unknown))}; "
                            f"known: {', '.join(CAPABILITIES)}")
    return names


def claimed_capabilities(config, cls, factory=None) -> frozenset[str]:
    """The capabilities the class under test claims: the one place they are resolved.

    * the running generation's own ``keras.layers.Dense`` claims what the catalogue says it has on this generation
      and backend (so ``--impl keras.layers:Dense`` checks Dense's capabilities);
    * any class claims the names in its attribute ``layer_spec_capabilities`` (inherited like any attribute); a
      factory's own attribute of that name wins over its class's;
    * and those of ``--capabilities a,b``, else ``LAYER_SPEC_CAPABILITIES``, else the ini key
      ``layer_spec_capabilities`` (for every implementation of the run).

    An unknown name is an :class:`ImplSpecError`.
    """
    from spec_tests import generation

    claimed = set(capabilities.dense_capabilities(*capabilities.runtime())) if cls is generation.Dense else set()
    owner = factory if factory is not None and hasattr(factory, CAPABILITIES_ATTRIBUTE) else cls
    claimed |= _names(getattr(owner, CAPABILITIES_ATTRIBUTE, ()), f"{owner.__qualname__}.{CAPABILITIES_ATTRIBUTE}")
    requested, where = setting(config, "layer_spec_capabilities", environment.CAPABILITIES)
    return frozenset(claimed | _names(requested or "", where or "--capabilities"))


def declared_options(config) -> tuple[str, ...]:
    """The options ``--options a,b`` (else ``LAYER_SPEC_OPTIONS``, else the ini key) declares for every
    implementation of the run; an unknown name is an :class:`ImplSpecError`."""
    from spec_tests.harness.options import DENSE_OPTIONS

    value, where = setting(config, "layer_spec_options", environment.OPTIONS)
    names = [name.strip() for name in (value or "").split(",") if name.strip()]
    unknown = [name for name in names if name not in DENSE_OPTIONS]
    if unknown:
        raise ImplSpecError(f"{where}: unknown option(s) {', '.join(map(repr, unknown))}; known: "
                            f"{', '.join(DENSE_OPTIONS)}")
    return tuple(names)


def requested_impls(config) -> tuple[list[str], str]:
    """The implementations this run names, and where they came from (default: the reference layer)."""
    value, where = setting(config, "layer_spec_impl", environment.IMPL)
    if value is None:
        return [DEFAULT_IMPL], "default"
    if isinstance(value, str):
        value = re.split(r"[,\n]", value)
    return [item.strip() for item in value if item.strip()], where


def _runs_spec(config) -> bool:
    """Whether this run involves the spec: a flag or variable names an implementation, or it collects spec_tests."""
    if config.getoption("layer_spec_impl", None) or config.getoption("layer_spec_profile", None):
        return True
    if os.environ.get(environment.IMPL, "").strip() or os.environ.get(environment.PROFILE, "").strip():
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
        for line in LIBRARY_WARNINGS:
            config.addinivalue_line("filterwarnings", line)
        implementations(config)
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


def implementations(config) -> tuple[SpecState, ...]:
    """Resolve every implementation of the run once; a bad value is a single usage error.

    An implementation that cannot run on this backend (``spec_tests/harness/portable.py``) is left out with its
    reason (:func:`refused`); when that leaves none, it is a usage error.
    """
    states = config.stash.get(_STATES, None)
    if states is not None:
        return states
    from spec_tests.harness import portable

    choices, _ = requested_impls(config)
    default_profile, where = setting(config, "layer_spec_profile", environment.PROFILE)
    if default_profile is not None and default_profile not in PROFILES:
        raise pytest.UsageError(f"{where} {default_profile!r}: expected one of {', '.join(PROFILES)}")
    found, refused = [], []
    for choice in dict.fromkeys(choices):
        spec, profile = split_choice(choice)
        try:
            maker, source = load_impl(spec)
            cls = made_class(maker, spec)
            factory = maker if is_factory(maker) else None
            claimed = claimed_capabilities(config, cls, factory)
            offered = declared_options(config)
        except ImplSpecError as exc:
            raise pytest.UsageError(str(exc)) from None
        refusal = portable.refusal(cls)  # a TensorFlow-only layer on another backend: one message, not one per clause
        if refusal:
            refused.append((spec, refusal))
            continue
        found.append(SpecState(spec=spec, cls=cls, profile=profile or default_profile or DEFAULT_PROFILE,
                               source=source, capabilities=claimed, options=offered, factory=factory))
    if not found:
        raise pytest.UsageError("; ".join(f"--impl {spec!r}: {why}" for spec, why in refused))
    for state in found:
        try:
            forward.of(state)
        except ValueError as exc:
            raise pytest.UsageError(f"--impl {state.spec!r}: {exc}") from None
    states = tuple(SpecState(**{**vars(state), "id": ident}) for state, ident in zip(found, short_ids(found)))
    config.stash[_STATES], config.stash[_REFUSED] = states, refused
    return states


def refused(config) -> list[tuple[str, str]]:
    """The implementations left out of this run because they cannot run on its backend: (spec, reason)."""
    return config.stash.get(_REFUSED, [])


def resolve(config) -> SpecState:
    """The run's first implementation (the only one, in most runs)."""
    return implementations(config)[0]


def run_config():
    """The pytest config of the run the spec is in, or None outside one (a reproduction script)."""
    return _CONFIG[0] if _CONFIG else None


def spec_state() -> SpecState:
    """The run's first implementation, for code outside a test item's reach."""
    return resolve(_CONFIG[0])


def several(config) -> bool:
    return len(implementations(config)) > 1


def state_of(item) -> SpecState:
    """The implementation a collected item checks."""
    callspec = getattr(item, "callspec", None)
    state = callspec.params.get(IMPL_FIXTURE) if callspec is not None else None
    return state if isinstance(state, SpecState) else resolve(item.config)


def base_id(nodeid: str, state: SpecState) -> str:
    """``...::test_x[MyDense-relu]`` -> ``...::test_x[relu]``: a node id without its implementation's id."""
    head, bracket, case = nodeid.partition("[")
    if not bracket or not state.id:
        return nodeid
    case = case[:-1]
    for rest in (case.removeprefix(f"{state.id}-"), case.removesuffix(f"-{state.id}")):
        if rest != case:
            return f"{head}[{rest}]"
    return head if case == state.id else nodeid


def pytest_generate_tests(metafunc):
    """With several implementations, every spec test that uses one runs once per implementation."""
    if IMPL_FIXTURE not in metafunc.fixturenames or not metafunc.module.__name__.startswith("spec_tests."):
        return
    states = implementations(metafunc.config)
    if len(states) > 1:
        metafunc.parametrize(IMPL_FIXTURE, states, ids=[state.id for state in states], indirect=True,
                             scope="session")


def pytest_report_header(config):
    states = config.stash.get(_STATES, None)
    if states is None:
        return None
    from spec_tests import generation

    lines = []
    for state in states:
        prefix = f"layer-spec: [{state.id}] " if len(states) > 1 else "layer-spec: "
        lines += [
            f"{prefix}impl {state.spec} -> {state.label} ({state.source})",
            f"{prefix}profile {state.profile}: {PROFILES[state.profile]}",
            f"{prefix}capabilities claimed: {', '.join(sorted(state.capabilities)) or 'none'}",
            f"{prefix}{forward.describe(forward.of(state))}",
        ]
    lines += [f"layer-spec: not run: {spec}: {why}" for spec, why in refused(config)]
    lines += [f"layer-spec: keras Dense has here: "
              f"{', '.join(capabilities.dense_capabilities(*capabilities.runtime())) or 'none'}",
              f"layer-spec: {generation.describe()}"]
    from spec_tests import platform_probe

    lines += [f"layer-spec: {line}" for line in platform_probe.probe().header_lines()]
    return lines


def pytest_collection_modifyitems(config, items):
    if config.stash.get(_STATES, None) is None:
        if not any(is_spec_item(item) for item in items):
            return
        implementations(config)
    runtime = capabilities.runtime()
    seed_skip = pytest.mark.skip(reason="not in the seed profile's contract (Cls(num_outputs), kernel only)")
    for item in items:
        if not is_spec_item(item):
            continue
        for line in CLAUSE_WARNINGS:
            item.add_marker(pytest.mark.filterwarnings(line))
        state = state_of(item)
        if state.profile == "seed" and item.get_closest_marker(SEED_MARKER) is None:
            item.add_marker(seed_skip)
        name = capability_of(item)
        reason = name and capabilities.skip_reason(name, state.capabilities, *runtime)
        if reason:
            item.add_marker(pytest.mark.skip(reason=reason))


def active(config) -> SpecState | None:
    """The run's first implementation, or None while this pytest run does not involve the spec.

    For the other plugin parts (report, benchmarks): they stay dormant while this returns None.
    It never resolves anything itself.
    """
    states = config.stash.get(_STATES, None)
    return states[0] if states else None
