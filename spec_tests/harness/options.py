"""Offered options: which of ``keras.layers.Dense``'s constructor arguments a layer takes, and its own defaults.

Most custom dense layers offer fewer options than ``Dense`` (``SimpleDense(units, activation=None, **kwargs)``),
and some change a default on purpose (qkeras-v3's ``QDense``: ``kernel_initializer="he_normal"``). Which options
a layer takes is measured, not guessed from its signature (a layer may take them through ``**kwargs`` by hand):
``Cls(3, option=<Dense's default>)`` is built once per option, with Keras's state saved and put back; an option is
offered unless that raises. The defaults come from the constructor's signature: the class's own ``__init__``
and, where it forwards ``**kwargs``, the next ``__init__`` up its bases. A layer may declare both instead:
``layer_spec_options = ("activation", "use_bias")`` and ``layer_spec_defaults = {...}``; so can ``--options``,
``LAYER_SPEC_OPTIONS`` or the ini key ``layer_spec_options``, as with capabilities.

A clause never asks: the ``make_layer`` fixture sees which options a clause passes. Under the ``dense`` profile
(a drop-in ``Dense``) an option the layer does not offer fails the clause with one message, so the run shows one
cause, "not a drop-in keras.layers.Dense"; under ``custom`` the clause is skipped as "not offered" and counted
apart. A default that differs from ``Dense``'s is one cause under ``dense``; under ``custom`` the default clauses
check that the layer honours its own default.
"""

from __future__ import annotations

import dataclasses
import inspect

#: Dense's options beyond ``units``, in its signature's order.
DENSE_OPTIONS = ("activation", "use_bias", "kernel_initializer", "bias_initializer", "kernel_regularizer",
                 "bias_regularizer", "activity_regularizer", "kernel_constraint", "bias_constraint")
#: What every layer takes through the base Layer.
BASE_OPTIONS = ("name", "dtype", "trainable", "activity_regularizer")
#: Dense's defaults for its options (the same on Keras 2 and Keras 3).
DENSE_DEFAULTS = {"activation": None, "use_bias": True, "kernel_initializer": "glorot_uniform",
                  "bias_initializer": "zeros", "kernel_regularizer": None, "bias_regularizer": None,
                  "activity_regularizer": None, "kernel_constraint": None, "bias_constraint": None}
#: The class attributes a layer declares them with.
OPTIONS_ATTRIBUTE, DEFAULTS_ATTRIBUTE = "layer_spec_options", "layer_spec_defaults"
#: The words a clause fails with under ``dense`` (the hint table recognises them: one cause).
NOT_DROP_IN = "not a drop-in keras.layers.Dense"
#: The outcome (and the start of the skip reason) of a clause that needs an option the layer does not take.
NOT_OFFERED = "not_offered"
SKIP_REASON = "not offered"  # helpers.NOT_OFFERED: the words a clause skips with
_NO_DEFAULT = object()


@dataclasses.dataclass(frozen=True)
class Offer:
    """What a layer offers: its options (beyond ``units``) with their defaults, and how that was learnt."""

    defaults: dict  # option -> default (_NO_DEFAULT when required)
    source: str  # "signature" or "declared"

    @property
    def options(self) -> frozenset:
        return frozenset(self.defaults) | frozenset(BASE_OPTIONS)

    def missing(self) -> list[str]:
        """Dense's options the layer does not offer, in Dense's order."""
        return [name for name in DENSE_OPTIONS if name not in self.options]

    def differing_defaults(self) -> dict:
        """option -> (the layer's default, Dense's) where they differ."""
        return {name: (self.defaults[name], DENSE_DEFAULTS[name]) for name in DENSE_OPTIONS
                if name in self.defaults and self.defaults[name] is not _NO_DEFAULT
                and not same_default(name, self.defaults[name], DENSE_DEFAULTS[name])}

    def drop_in(self) -> tuple[bool, list[str]]:
        """Whether the layer is a drop-in ``Dense`` (every option, Dense's defaults), and why not."""
        reasons = []
        if self.missing():
            reasons.append(f"the constructor does not take {', '.join(self.missing())}")
        reasons += [f"default {name} is {mine!r}; Dense's is {dense!r}"
                    for name, (mine, dense) in self.differing_defaults().items()]
        return not reasons, reasons


def _identity(name: str, value):
    """A comparable identity of an option's value: an initializer's class name, None for 'linear', the value."""
    if value is None or value == "linear":
        return None
    if name.endswith("_initializer"):
        from spec_tests.generation import keras

        try:
            initializer = keras.initializers.get(value)
        except (ValueError, TypeError):
            return value
        return type(initializer).__name__
    return value


def same_default(name: str, mine, dense) -> bool:
    """Whether the layer's default is Dense's. ``None`` for an initializer says nothing (many layers resolve
    ``None`` to Dense's own choice in ``__init__``): it counts as the same, and the clause's checks decide."""
    if mine is None and name.endswith("_initializer"):
        return True
    return _identity(name, mine) == _identity(name, dense)


def _parameters_after_units(function, skip_self: bool) -> tuple[list, bool]:
    """A constructor's or factory's options (its parameters after ``units``), and whether it takes ``**kwargs``."""
    parameters = list(inspect.signature(function).parameters.values())[1 if skip_self else 0:]
    forwards = any(parameter.kind == parameter.VAR_KEYWORD for parameter in parameters)
    if parameters and parameters[0].name in ("units", "num_outputs"):
        parameters = parameters[1:]
    return [p for p in parameters if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)], forwards


def _signature_defaults(maker, cls=None) -> dict:
    """option -> default, from the factory's signature or ``cls.__init__`` and, through ``**kwargs``, the next one
    up (a factory's class, a class's bases) to the base Layer."""
    from spec_tests.generation import Layer

    found: dict = {}
    if not inspect.isclass(maker):  # a factory: its own signature first, then its class's through **kwargs
        parameters, forwards = _parameters_after_units(maker, skip_self=False)
        found.update({p.name: _NO_DEFAULT if p.default is p.empty else p.default for p in parameters})
        if not forwards:
            return found
    for klass in (cls or maker).__mro__:
        if "__init__" not in vars(klass):
            continue
        if klass is Layer or not issubclass(klass, Layer):
            found.update({name: found.get(name, DENSE_DEFAULTS.get(name)) for name in BASE_OPTIONS})
            break
        parameters, forwards = _parameters_after_units(klass.__init__, skip_self=True)
        for parameter in parameters:
            default = _NO_DEFAULT if parameter.default is parameter.empty else parameter.default
            found.setdefault(parameter.name, default)
        if not forwards:
            break  # nothing is forwarded to the bases
    return found


def _takes(maker, name: str) -> bool:
    try:
        maker(3, **{name: DENSE_DEFAULTS[name]})
    except Exception:  # noqa: BLE001 - any refusal: the option is not taken
        return False
    return True


def _measured(maker) -> tuple:
    """Dense's options ``maker`` (a class or a factory) takes, tried one by one on fresh instances; Keras's global
    state is put back."""
    from spec_tests import generation

    saved = generation.save_global_state()
    try:
        try:
            maker(3)
        except Exception:  # noqa: BLE001 - a constructor that fails without options tells nothing: all offered
            return DENSE_OPTIONS
        return tuple(name for name in DENSE_OPTIONS if name in BASE_OPTIONS or _takes(maker, name))
    finally:
        generation.restore_global_state(saved)


_OFFERS: dict = {}


def _declaration(maker, cls, name: str, default):
    """A ``layer_spec_*`` declaration: the factory's, else its class's (a factory may declare for a class)."""
    return next((getattr(owner, name) for owner in (maker, cls) if owner is not None and hasattr(owner, name)),
                default)


def offer(maker, declared: tuple = (), cls=None) -> Offer:
    """What ``maker`` (a layer class, or a factory making layers of class ``cls``) offers, cached per maker and
    declaration: the declared options (its attribute, then ``declared`` from the run's settings) when there are
    any, else the measured ones; the defaults from the signature, overridden by ``layer_spec_defaults``."""
    key = (maker, tuple(declared))
    if key not in _OFFERS:
        names = tuple(_declaration(maker, cls, OPTIONS_ATTRIBUTE, ()) or ()) + tuple(declared)
        signature = _signature_defaults(maker, cls)
        own = dict(_declaration(maker, cls, DEFAULTS_ATTRIBUTE, {}) or {})
        source = "declared" if names else "measured"
        names = names or _measured(maker)
        defaults = {name: own.get(name, signature.get(name, DENSE_DEFAULTS.get(name))) for name in names}
        _OFFERS[key] = Offer(defaults, source)
    return _OFFERS[key]


def default_of(offered: Offer, name: str):
    """The layer's own default for ``name`` (Dense's when the layer does not say)."""
    value = offered.defaults.get(name, DENSE_DEFAULTS.get(name))
    return DENSE_DEFAULTS.get(name) if value is _NO_DEFAULT else value


__all__ = ["NOT_OFFERED", "SKIP_REASON", "BASE_OPTIONS", "DEFAULTS_ATTRIBUTE", "DENSE_DEFAULTS", "DENSE_OPTIONS", "NOT_DROP_IN",
           "OPTIONS_ATTRIBUTE", "Offer", "default_of", "offer", "same_default"]
