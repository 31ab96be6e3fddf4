"""The catalogue of the spec: its profiles, its areas in reading order, and its clauses.

Every other part of the harness asks this module, never the file system or a
list of its own: the plugin (which clause belongs to which area), the report
(rows in reading order), ``layer-spec list``, the runner and the mutant zoo.

* A **profile** is a contract a class may promise (``dense``, ``seed``).
* An **area** is one clause module, ``spec_tests/test_<area>.py``; the areas
  are read in the order a layer is built and then used (:data:`AREAS`).
* A **clause** is one test function of an area module (a parametrized clause
  has several cases, but is one clause). :func:`iter_clauses` lists them as
  pytest collects them (``--collect-only``, nothing runs): their levels and
  cases are what pytest's items say, not read from the decorators.
* A clause's **level** is MUST (the default: a working program depends on what
  it checks) or SHOULD (marked ``@pytest.mark.should``: the form of a refusal,
  or good practice no caller depends on). Only MUST failures decide the verdict.
* A **capability** is something ``keras.layers.Dense`` does beyond the core
  contract (sparse or ragged inputs, int8 quantization, LoRA): :data:`CAPABILITIES`
  says what each means and where Keras's ``Dense`` has it. Its clauses run only
  for a layer that claims it (:func:`spec_tests.harness.selection.claimed_capabilities`).

Importing this module imports neither TensorFlow nor a spec module (listing the clauses does).
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
from pathlib import Path
from typing import Iterator

SPEC_PACKAGE = "spec_tests"
SPEC_DIR = Path(__file__).resolve().parents[1]

#: Profile name -> the contract a class promises under it, in one sentence.
PROFILES = {
    "dense": "the core contract every dense layer shares with keras.layers.Dense: Cls(units, activation=None, "
    "use_bias=True, ...initializers, regularizers, constraints..., **base kwargs), kernel and bias, dense inputs of "
    "rank >= 2 (what Dense does beyond it, such as sparse inputs or quantization, are capabilities a layer claims)",
    "seed": "the tutorial's minimal contract: Cls(num_outputs) positional only, a kernel and no bias, rank-2 inputs",
    "custom": "a custom dense layer judged on what it offers: Cls(units, <the options its constructor takes>, "
    "**base kwargs), kernel and bias, dense inputs of rank >= 2, its own defaults honoured; a clause that needs an "
    "option it does not take is skipped as not offered",
}
DEFAULT_PROFILE = "dense"
#: The marker of clauses that belong to the seed profile's contract too.
SEED_MARKER = "seed"

#: Levels in the sense of RFC 2119. Unmarked clauses are MUST; ``@pytest.mark.should`` makes a clause SHOULD.
MUST, SHOULD = "MUST", "SHOULD"
SHOULD_MARKER = "should"
LEVEL_HELP = {
    MUST: "a working program depends on it: values, shapes, dtypes, variables, gradients, masks, saved files, "
    "and that bad input is refused with nothing changed; a failure means the layer does not conform",
    SHOULD: "the form of a refusal (exception class, wording, when it is raised) or good practice no caller "
    "depends on; a failure is an advisory and does not decide the verdict",
}

#: The areas in the order the spec reads: how a layer is made, built and named, what it computes, then what
#: a Keras citizen needs (saving, training, graphs, dtypes, options, distribution), then refusals.
AREAS = (
    "construction", "build", "naming", "shapes", "trainable_variables", "bias", "gradients", "differential",
    "masking", "tutorial", "serialization", "compatibility", "training", "graph", "dtypes", "initializers",
    "distribution", "bad_input", "damaged_files",
    # capabilities: what keras.layers.Dense does beyond the core contract, checked only when the layer claims it
    "sparse_inputs", "ragged_inputs", "quantization", "lora",
)
#: Markers of spec items that are not clauses (the benchmarks): left out of areas, reports and listings.
NOT_CLAUSE_MARKERS = ("spec_benchmark",)
#: Spec modules that time rather than state clauses.
NOT_AREA_MODULES = ("test_benchmarks",)


def area_sort_key(area: str) -> tuple[int, str]:
    """Sort key for areas: reading order, then any area :data:`AREAS` does not list, alphabetically."""
    return (AREAS.index(area) if area in AREAS else len(AREAS), area)


def spec_areas() -> list[str]:
    """Every area that has a module in ``spec_tests/``, in reading order."""
    names = (path.stem for path in SPEC_DIR.glob("test_*.py") if path.stem not in NOT_AREA_MODULES)
    return sorted((name.removeprefix("test_") for name in names), key=area_sort_key)


def area_module(area: str) -> str:
    """``build`` -> ``spec_tests.test_build``."""
    return f"{SPEC_PACKAGE}.test_{area.removeprefix('test_')}"


def area_of(item_or_nodeid) -> str:
    """The area of a clause, from a pytest item or a node id: its module's name without ``test_``."""
    module = getattr(item_or_nodeid, "module", None)
    if module is not None:
        stem = module.__name__.rsplit(".", 1)[-1]
    else:
        nodeid = getattr(item_or_nodeid, "nodeid", item_or_nodeid)
        stem = nodeid.replace("\\", "/").split("::", 1)[0].rsplit("/", 1)[-1].removesuffix(".py")
    return stem.removeprefix("test_")


def canonical_id(nodeid: str, module_name: str | None = None) -> str:
    """A clause's id written from the package, ``spec_tests/test_build.py::test_x``, whatever the rootdir."""
    path, sep, rest = nodeid.replace("\\", "/").partition("::")
    if module_name:
        path = module_name.replace(".", "/") + ".py"
    else:
        parts = [part for part in path.split("/") if part not in ("", ".")]
        if SPEC_PACKAGE in parts:
            parts = parts[len(parts) - 1 - parts[::-1].index(SPEC_PACKAGE):]
        elif parts:
            parts = [SPEC_PACKAGE, parts[-1]]
        path = "/".join(parts)
    return path + sep + rest


def item_ids(item) -> tuple[str, str, str]:
    """How an item may be named: pytest's node id, from the package, and from inside the package."""
    module = getattr(item, "module", None)
    canonical = canonical_id(item.nodeid, module.__name__ if module is not None else None)
    return item.nodeid, canonical, canonical.removeprefix(f"{SPEC_PACKAGE}/")


def is_spec_item(item) -> bool:
    """Whether a collected item comes from a spec module (a clause or a benchmark)."""
    module = getattr(item, "module", None)
    if module is not None and module.__name__.startswith(f"{SPEC_PACKAGE}.test_"):
        return True
    return item.nodeid.replace("\\", "/").split("::")[0].split("/")[-2:-1] == [SPEC_PACKAGE]


def is_clause(item) -> bool:
    """A spec item that states a rule (not a benchmark)."""
    return is_spec_item(item) and not any(item.get_closest_marker(name) for name in NOT_CLAUSE_MARKERS)


def level_of(item) -> str:
    """A collected item's level: SHOULD when it (its function, class, module or parametrized case) is marked."""
    return SHOULD if item.get_closest_marker(SHOULD_MARKER) is not None else MUST


def clause_rule(function) -> str:
    """The clause's rule: the first paragraph of its docstring, on one line (``''`` without a docstring)."""
    doc = inspect.getdoc(function) if function is not None else None
    if not doc:
        return ""
    return " ".join(doc.split("\n\n", 1)[0].split())


# --------------------------------------------------------------------------- capabilities


@dataclasses.dataclass(frozen=True)
class Capability:
    """Something ``keras.layers.Dense`` does beyond the core contract, which a layer may claim.

    Its clauses (marked ``@pytest.mark.capability(name)``) run only when the layer under test claims it; they take
    the generation's ``Dense`` as the oracle, so they run only where that ``Dense`` has the capability.
    """

    name: str
    meaning: str
    keras3_backends: tuple[str, ...]  # the Keras 3 backends on which Keras's Dense has it; () on none
    keras2: bool  # whether legacy Keras 2's Dense (tf-keras, TensorFlow only) has it

    def dense_has(self, generation: int, backend: str) -> bool:
        """Whether the ``Dense`` of Keras ``generation`` on ``backend`` has this capability."""
        if generation == 2:
            return self.keras2 and backend == "tensorflow"
        return backend in self.keras3_backends

    def where(self) -> str:
        """Where Keras's ``Dense`` has it, in words: ``Keras 3 with tensorflow; Keras 2``."""
        places = [f"Keras 3 with {', '.join(self.keras3_backends)}"] if self.keras3_backends else []
        return "; ".join(places + (["Keras 2"] if self.keras2 else [])) or "nowhere"


#: The marker that ties a clause to the capability it checks: ``@pytest.mark.capability("sparse_inputs")``.
CAPABILITY_MARKER = "capability"
_KERAS3_BACKENDS = ("tensorflow", "jax", "torch")
#: Every capability, by name. Measured on TensorFlow 2.21, Keras 3.15.1 (tensorflow and jax backends) and
#: tf-keras 2.21; quantization and LoRA are written in keras.ops in Keras's Dense, so they hold on torch too.
CAPABILITIES = {
    cap.name: cap
    for cap in (
        Capability("sparse_inputs", "takes a rank-2 tf.SparseTensor (unordered or repeated indices too) and returns "
                   "the dense output of the same input made dense, with the same gradients, also in tf.function",
                   keras3_backends=("tensorflow",), keras2=True),
        Capability("ragged_inputs", "takes a tf.RaggedTensor (batch, None, input_dim) and returns a RaggedTensor "
                   "(batch, None, units) with the same row lengths, each row computed as a dense input would be",
                   keras3_backends=(), keras2=True),
        Capability("quantize_int8", "layer.quantize('int8') replaces the kernel by an int8 kernel and a float32 "
                   "kernel_scale per unit; outputs stay within int8 rounding of the float ones; it saves and loads; "
                   "quantizing twice or before build is refused", keras3_backends=_KERAS3_BACKENDS, keras2=False),
        Capability("lora", "layer.enable_lora(rank) freezes kernel and trains lora_kernel_a (input_dim, rank) and "
                   "lora_kernel_b (rank, units), so that kernel + lora_kernel_a @ lora_kernel_b is the effective "
                   "kernel; it saves and loads", keras3_backends=_KERAS3_BACKENDS, keras2=False),
    )
}


def capability_of(item) -> str | None:
    """The capability a collected clause checks (its ``capability`` marker), or None for a core clause."""
    mark = item.get_closest_marker(CAPABILITY_MARKER)
    return str(mark.args[0]) if mark is not None and mark.args else None


# --------------------------------------------------------------------------- the clauses, from pytest's collection


@dataclasses.dataclass
class Clause:
    """One clause function: where it lives, its rule, and how many parametrized cases pytest collects of it."""

    area: str
    name: str  # the function name, or Class::method
    rule: str
    cases: int
    seed: bool  # also part of the seed profile's contract (at least one of its cases)
    line: int
    level: str = MUST  # MUST, SHOULD, or "MUST/SHOULD" when only some parametrized cases are SHOULD
    seed_cases: int = 0  # how many of its cases belong to the seed profile's contract

    @property
    def id(self) -> str:
        return f"{SPEC_PACKAGE}/test_{self.area}.py::{self.name}"


@dataclasses.dataclass
class Area:
    """One area: its name, the first paragraph of its module docstring, and its clauses in source order."""

    name: str
    summary: str
    clauses: list


def _first_paragraph(obj) -> str:
    doc = inspect.getdoc(obj) if obj is not None else None
    return " ".join(doc.split("\n\n", 1)[0].split()) if doc else ""


class _Collected:
    """A pytest plugin for a ``--collect-only`` run: keeps what each collected clause is (its area, function, rule,
    level and seed markers, read through pytest's own item API), and the modules that failed to collect."""

    def __init__(self):
        self.cases: list[tuple[str, str, str, int, str, bool]] = []  # area, name, rule, line, level, seed
        self.summaries: dict[str, str] = {}
        self.errors: list[tuple[str, str]] = []

    def pytest_itemcollected(self, item):  # every item, before any selection of the run deselects one
        if not is_clause(item):
            return
        area = area_of(item)
        cls = getattr(item, "cls", None)
        name = getattr(item, "originalname", None) or item.name.split("[", 1)[0]
        self.summaries.setdefault(area, _first_paragraph(getattr(item, "module", None)))
        self.cases.append((area, f"{cls.__name__}::{name}" if cls is not None else name,
                           clause_rule(getattr(item, "function", None)), item.location[1] or 0, level_of(item),
                           item.get_closest_marker(SEED_MARKER) is not None))

    def pytest_collectreport(self, report):
        if report.failed:
            lines = [line.strip() for line in str(report.longrepr).splitlines() if line.strip()]
            why = lines[-1].removeprefix("E").strip() if lines else "collection failed"
            self.errors.append((report.nodeid.replace("/", ".").removesuffix(".py"), why))

    def areas(self, names) -> list[Area]:
        clauses: dict[tuple[str, str], Clause] = {}
        for area, name, rule, line, level, seed in self.cases:
            clause = clauses.get((area, name))
            if clause is None:
                clauses[(area, name)] = Clause(area, name, rule, 1, seed, line, level, int(seed))
                continue
            clause.cases += 1
            clause.seed_cases += seed
            clause.seed = clause.seed or seed
            if clause.level != level:
                clause.level = f"{MUST}/{SHOULD}"
        collected = {area for area, *_ in self.cases}
        return [Area(area, self.summaries.get(area, ""),
                     sorted((c for c in clauses.values() if c.area == area), key=lambda c: c.line))
                for area in names if area in collected]


@functools.lru_cache(maxsize=1)
def collect_spec() -> _Collected:
    """Collect every area of the spec with ``pytest --collect-only`` in this process, and hand back what the
    collection found: pytest, not this module, decides what a clause is and what its cases are.

    The collection runs on the generation's own ``Dense`` (``--impl`` given, so ``LAYER_SPEC_IMPL`` does not
    matter), with its output swallowed; it imports the spec modules and TensorFlow. A process collects once: its
    spec modules, once imported, do not change.
    """
    import contextlib
    import io

    import pytest

    from spec_tests.generation import LEGACY
    from spec_tests.harness import launcher

    files = [str(SPEC_DIR / f"test_{area}.py") for area in spec_areas()]
    args = [*files, "--collect-only", "-q", "-s", "--rootdir", str(SPEC_DIR.parent),
            "--impl", "tf_keras.layers:Dense" if LEGACY else "keras.layers:Dense",
            "-p", "no:randomly", "-p", "no:cacheprovider", "-W", "ignore::pytest.PytestAssertRewriteWarning"]
    collected = _Collected()
    output = io.StringIO()
    with contextlib.redirect_stdout(output):
        status = launcher.run_pytest_here(args, plugins=[collected])
    if status not in (pytest.ExitCode.OK, pytest.ExitCode.INTERRUPTED) and not collected.errors:
        tail = " ".join(output.getvalue().split()[-40:])
        collected.errors.append((SPEC_PACKAGE, f"pytest --collect-only ended with exit status {int(status)}: {tail}"))
    return collected


def iter_areas(errors: list | None = None, areas=()) -> Iterator[Area]:
    """Every area's clauses, in reading order, as pytest collects them (``areas``: only those).

    A module that fails to collect is left out; ``(module name, error)`` is appended to ``errors`` when given.
    """
    collected = collect_spec()
    if errors is not None:
        errors.extend(collected.errors)
    yield from collected.areas([area for area in spec_areas() if not areas or area in areas])


def iter_clauses() -> Iterator[Clause]:
    """Every clause of the spec, area by area in reading order, each area's clauses in source order."""
    for area in iter_areas():
        yield from area.clauses


__all__ = [
    "AREAS", "Area", "CAPABILITIES", "CAPABILITY_MARKER", "Capability", "Clause", "DEFAULT_PROFILE", "LEVEL_HELP",
    "MUST", "NOT_CLAUSE_MARKERS", "PROFILES", "SEED_MARKER", "SHOULD", "SHOULD_MARKER", "SPEC_DIR", "area_module",
    "area_of", "area_sort_key", "canonical_id", "capability_of", "clause_rule", "collect_spec", "is_clause", "is_spec_item", "item_ids",
    "iter_areas", "iter_clauses", "level_of", "spec_areas",
]
