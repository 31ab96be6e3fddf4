"""The mutant zoo: realistic broken dense layers that the spec must reject.

Convention (see also ``tests/test_mutants.py``, which enforces it):

* One module per spec area, ``mutants/<area>.py``, where ``<area>`` is the spec
  module's name without ``test_`` (``mutants/bias.py`` for ``spec_tests/test_bias.py``).
  Modules whose name starts with ``_``, and ``matrix``, are tools, not mutants.
  The areas, and the order they are read in, come from the spec's catalogue
  (:mod:`spec_tests.harness.catalogue`).
* A mutant is a class defined in that module with a ``KILLED_BY`` attribute: the
  tuple of spec areas that MUST each have at least one failing clause for it.
  Its docstring's first line names the one mistake it makes.
* Its mistake must be rejected by at least one MUST clause of each ``KILLED_BY``
  area. ``ADVISORY_ONLY = True`` marks a mutant whose only mistake is the form
  of a refusal (the exception class, the wording, when it is raised): each of
  its ``KILLED_BY`` areas must then give it an advisory (a failed SHOULD
  clause) and no MUST failure. It may be computed from the generation
  (``ADVISORY_ONLY = LEGACY``) where Keras's own behaviour differs.
* Optional ``PROFILE = "seed"`` when it implements only the tutorial's seed
  contract, or ``"custom"`` when it is a minimal layer judged on the options it offers (default ``"dense"``; a
  mutant whose only mistake is a default other than Dense's or a missing option is a ``dense`` mutant: under
  ``custom`` such a layer conforms); optional ``GENERATIONS = (3,)`` or ``(2,)``
  when the mistake only exists on one Keras generation (default both).
* The Keras backends it runs on are the ones its class declares for every
  layer, ``layer_spec_backends``: mutants of the reference ``MyDenseLayer``
  inherit ``("tensorflow",)`` (its TensorFlow ops), the ``keras.ops`` mutants
  on ``mutants._ops.OpsBase`` (``layers.OpsDense``) every backend, so the meta
  test rejects them under ``KERAS_BACKEND=jax`` too. Undeclared: TensorFlow.
* Keras comes only from ``layers._compat``; every mutant is registered with
  ``@register_serializable(package="mutants")``, so class names must be unique
  across the whole zoo (a mutant whose mistake is its package says which in ``MUTANT_PACKAGE``).

A mutant's *spec string* is ``mutants.<area>:<Class>``, the value ``--impl`` takes::

    python -m pytest -p no:randomly -q spec_tests/test_bias.py --impl mutants.bias:BiasNeverAdded

:func:`all_mutants` lists the zoo; ``python -m mutants.matrix --kill-matrix PATH``
runs every mutant against every area.
"""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import traceback
from pathlib import Path

from spec_tests.harness.catalogue import area_sort_key, spec_areas

PACKAGE_DIR = Path(__file__).resolve().parent

#: Modules of this package that hold tools rather than mutants.
TOOL_MODULES = frozenset({"matrix"})
DEFAULT_GENERATIONS = (2, 3)
#: The backends of a mutant whose class declares none (``layer_spec_backends``).
DEFAULT_BACKENDS = ("tensorflow",)


@dataclasses.dataclass(frozen=True)
class Mutant:
    """One mutant of the zoo, as discovered from its module."""

    spec: str  # "mutants.<area>:<Class>", the --impl value
    module: str  # the area module it lives in ("bias")
    name: str  # the class name
    cls: type = dataclasses.field(compare=False, repr=False)
    doc: str  # the docstring's first line: the mistake, in one sentence
    killed_by: tuple[str, ...]
    profile: str = "dense"
    generations: tuple[int, ...] = DEFAULT_GENERATIONS
    backends: tuple[str, ...] = DEFAULT_BACKENDS
    advisory_only: bool = False  # only the form of a refusal is wrong: rejected by SHOULD clauses, as advisories

    def runs_on(self, generation: int, backend: str = "tensorflow") -> bool:
        return generation in self.generations and backend in self.backends


def mutant_module_names() -> list[str]:
    """Names (without ``mutants.``) of the modules that may hold mutants, in the spec's reading order."""
    return sorted(
        (path.stem for path in PACKAGE_DIR.glob("*.py") if not path.stem.startswith("_") and path.stem not in TOOL_MODULES),
        key=area_sort_key,
    )


def _first_line(doc: str | None) -> str:
    lines = inspect.cleandoc(doc or "").strip().splitlines()
    return lines[0].strip() if lines else ""


def _as_tuple(value) -> tuple:
    if isinstance(value, str):
        return (value,)
    return tuple(value)


def mutants_of(module) -> list[Mutant]:
    """The mutants defined in ``module`` (classes with ``KILLED_BY``), in source order."""
    area = module.__name__.rsplit(".", 1)[-1]
    found = []
    for name, cls in vars(module).items():
        if not inspect.isclass(cls) or cls.__module__ != module.__name__ or "KILLED_BY" not in vars(cls):
            continue
        found.append(
            Mutant(
                spec=f"{module.__name__}:{name}",
                module=area,
                name=name,
                cls=cls,
                doc=_first_line(cls.__doc__),
                killed_by=_as_tuple(cls.KILLED_BY),
                profile=getattr(cls, "PROFILE", "dense"),
                generations=tuple(int(g) for g in _as_tuple(getattr(cls, "GENERATIONS", DEFAULT_GENERATIONS))),
                backends=_as_tuple(getattr(cls, "layer_spec_backends", None) or DEFAULT_BACKENDS),
                advisory_only=bool(getattr(cls, "ADVISORY_ONLY", False)),
            )
        )
    return found


def discover() -> tuple[list[Mutant], dict[str, str]]:
    """Import every mutant module; return the mutants and, per module that failed to import, its traceback."""
    mutants: list[Mutant] = []
    errors: dict[str, str] = {}
    for name in mutant_module_names():
        try:
            module = importlib.import_module(f"{__name__}.{name}")
        except Exception:  # noqa: BLE001 - reported, so one broken module does not hide the others
            errors[name] = traceback.format_exc()
            continue
        mutants.extend(mutants_of(module))
    return mutants, errors


def all_mutants() -> list[Mutant]:
    """Every mutant of the zoo; raises ImportError naming the module if one cannot be imported."""
    mutants, errors = discover()
    if errors:
        details = "\n".join(f"mutants.{name}:\n{tb}" for name, tb in errors.items())
        raise ImportError(f"mutant module(s) failed to import: {', '.join(sorted(errors))}\n{details}")
    return mutants


def get_mutant(spec: str) -> Mutant:
    """The mutant with this spec string (``mutants.<area>:<Class>``)."""
    module_name, _, class_name = spec.partition(":")
    module = importlib.import_module(module_name)
    for mutant in mutants_of(module):
        if mutant.name == class_name:
            return mutant
    raise LookupError(f"{spec}: no mutant class {class_name!r} with KILLED_BY in {module_name}")


__all__ = ["Mutant", "all_mutants", "discover", "get_mutant", "mutant_module_names", "mutants_of", "spec_areas"]
