"""The two tiers of the project's tests, and the rule that picks the default tier's samples.

``pytest tests`` runs the *default tier*: every test without the ``full`` mark. ``pytest tests --full`` runs every
test (``tests/conftest.py``). The full tier holds what is slow, not what is optional: the whole mutant zoo, every
correct layer, the wheel installed in a fresh virtual environment, the benchmarks' timing calibration, and the
other tests that each run the spec in a new process for long. CI runs both (``.ci/run``, ``docs/testing.md``).

The default tier rejects a sample of the zoo (:data:`MUTANT_SAMPLE`) and runs a sample of the correct layers
(:data:`CORRECT_SAMPLE`). The mutant sample is chosen by a rule, checked by ``tests/test_tiers.py``, on the
mutants' own data (``KILLED_BY``, ``GENERATIONS``, ``layer_spec_backends``, ``ADVISORY_ONLY``, ``PROFILE``: what
``python -m mutants.matrix`` renders as the kill matrix's bold cells), on the process's generation and on every
backend a mutant of it runs on:

1. every area some mutant lists in ``KILLED_BY`` is listed by a sampled mutant, among those the area must
   reject with a MUST clause and among the advisory-only ones alike (where the zoo has one);
2. a mutant that is the *only* one there to list an area (in either kind) is sampled: nothing else exercises
   those clauses against a mistake meant for them (``damaged_files:LoadsVariablesOneByOne``,
   ``build:NoInputSpec``, the keras.ops mutants that alone reach an area under JAX);
3. each kind of mutant is sampled: the seed profile, the custom profile (a minimal layer), a
   Keras-generation-only mistake, a keras.ops mutant, a mutant with more than one ``KILLED_BY`` area.

Beyond the rule, the sample prefers mutants whose ``KILLED_BY`` runs are short (measured with ``pytest
tests/test_mutants.py --full -rA``, which prints each run's seconds). The correct layers' sample is three
styles, the cheapest of their kind (a whole spec run each, 20-40 s): ``keras.ops`` only, with its config written
field by field (Keras 3, and JAX), hand-written checks with ``tf.debugging`` (both generations), and Keras 2
written the Keras 2 way. A subclass of ``Dense`` (50 s) is left to the full tier: ``tests/test_honesty.py``
runs the whole spec on ``Dense`` itself.
"""

from __future__ import annotations

from collections import defaultdict

import pytest

FULL_MARK = "full"
FULL_OPTION = "--full"
#: The mark of a full-tier test.
FULL = getattr(pytest.mark, FULL_MARK)
#: How many full-tier tests this session deselected (``tests/conftest.py``); 0 with ``--full``.
DESELECTED = pytest.StashKey[int]()

#: The mutants whose rejection the default tier checks (``tests/test_mutants.py``); the rule above holds for it.
MUTANT_SAMPLE = (
    "mutants.construction:UnitsCastWithInt",
    "mutants.construction:UnitsRefusedWithTypeError",
    "mutants.build:NoInputSpec",
    "mutants.build:UnknownDimensionSkipsBuild",
    "mutants.build:BuildNeverSetsBuilt",
    "mutants.naming:WeightsNamedWB",
    "mutants.shapes:EinsumRank2Only",
    "mutants.trainable_variables:LearnableOutputScale",
    "mutants.bias:OpsBiasNeverAdded",
    "mutants.gradients:OpsKernelStopGradient",
    "mutants.masking:MaskingNotSupported",
    "mutants.masking:MinimalDenseDropsMask",
    "mutants.construction:MinimalDenseUnitsUnchecked",
    "mutants.serialization:MinimalDenseConfigDropsActivation",
    "mutants.tutorial:TutorialKernelRandomNormal",
    "mutants.serialization:ConfigRenamesUnits",
    "mutants.compatibility:RenamedPackageDense",
    "mutants.training:KernelBehindStopGradient",
    "mutants.graph:NewVariableEveryCall",
    "mutants.graph:OpsNumpyMatmulInCall",
    "mutants.dtypes:InputsCastToFloat32",
    "mutants.dtypes:OpsComputesInFloat32",
    "mutants.initializers:KernelInitializerArgumentIgnored",
    "mutants.distribution:OpsBiasCreatedInInit",
    "mutants.distribution:BiasCreatedInInit",
    "mutants.bad_input:OpsDtypeWhitelist",
    "mutants.bad_input:UnknownKwargsIgnored",  # bad_input on Keras 2, where OpsDtypeWhitelist (keras.ops) cannot run
    "mutants.damaged_files:LoadsVariablesOneByOne",
    "mutants.sparse_inputs:SparseBiasForgotten",
    "mutants.ragged_inputs:RaggedPaddedOutput",
    "mutants.quantization:QuantizedScaleInverted",
    "mutants.lora:LoraAlphaIgnored",
)

#: The correct layers the default tier runs the whole spec on (``tests/test_correct_layers.py``).
CORRECT_SAMPLE = (
    "tests.correct_layers.broadcast_sum:BroadcastSumDense",
    "tests.correct_layers.hand_checked:HandCheckedDense",
    "tests.correct_layers.keras2_style:Keras2StyleDense",
)


def full_unless(sampled: bool) -> tuple:
    """The marks of a parametrized case: none for a sampled one, the full tier's for the rest."""
    return () if sampled else (FULL,)


def split_tiers(items) -> tuple[list, list]:
    """``items`` as (default tier, full tier), each in the order given."""
    default, full = [], []
    for item in items:
        (full if item.get_closest_marker(FULL_MARK) else default).append(item)
    return default, full


#: The tests that take longest (each runs the whole spec, or builds a wheel, in new processes: 10-45 s), by node
#: id prefix. Under pytest-xdist they are handed out first (:func:`longest_first`), so the two workers finish
#: together instead of one waiting on a long test picked up last; their order among themselves stays pytest's
#: (pytest-randomly's shuffle included). Measured with ``--durations=60`` (docs/testing.md).
LONGEST = (
    "tests/test_workflow.py::test_two_layers_from_pyproject",
    "tests/test_honesty.py::",
    "tests/test_correct_layers.py::test_correct_layer_conforms",
    "tests/test_backends.py::test_parity_command",
    "tests/test_options.py::test_minimal_layer_mistakes",
    "tests/test_platform.py::test_platform_outcome_alone",
    "tests/test_causes.py::test_two_independent_mistakes",
    "tests/test_alternatives.py::test_alternative_conforms",
    "tests/test_bench_calibration.py::test_pytest_run_fails_on_a_ratio_regression",
)


def longest_first(items) -> list:
    """``items`` with the :data:`LONGEST` tests first, each group in its given order (a stable sort)."""
    return sorted(items, key=lambda item: not item.nodeid.startswith(LONGEST))


def deselected_line(count: int) -> str:
    """The line a default run ends with; empty when it deselected nothing."""
    if not count:
        return ""
    return (f"tiers: {count} full-tier test(s) deselected (the whole mutant zoo, every correct layer, the wheel "
            f"workflow, the benchmark calibration, ...); run them with: pytest tests {FULL_OPTION}")


def listers(mutants, generation: int, backend: str) -> dict[tuple[str, bool], list[str]]:
    """(area, advisory only) -> the specs of the mutants that run on ``generation`` and ``backend`` and list the area."""
    found: dict[tuple[str, bool], list[str]] = defaultdict(list)
    for mutant in mutants:
        if mutant.runs_on(generation, backend):
            for area in mutant.killed_by:
                found[(area, mutant.advisory_only)].append(mutant.spec)
    return dict(found)


def rule_violations(sample, mutants, generation: int, backends) -> list[str]:
    """What the sample misses of the rule above, on ``generation`` and each of ``backends``; empty when it holds."""
    sample = set(sample)
    problems = [f"{spec}: in the sample, not in the zoo" for spec in sorted(sample - {m.spec for m in mutants})]
    for backend in backends:
        for (area, advisory), specs in sorted(listers(mutants, generation, backend).items()):
            kind = "advisory-only" if advisory else "MUST"
            where = f"Keras {generation} on {backend}"
            if len(specs) == 1 and specs[0] not in sample:
                problems.append(f"{specs[0]}: the only {kind} mutant listing {area!r} ({where}), not sampled")
            elif not sample & set(specs):
                problems.append(f"{area!r}: no sampled {kind} mutant lists it ({where}); candidates: {specs}")
    sampled = [m for m in mutants if m.spec in sample]
    kinds = {
        "the seed profile": [m for m in mutants if m.profile == "seed"],
        f"a Keras {generation}-only mistake": [m for m in mutants if m.generations == (generation,)],
        "a keras.ops mutant (more than one backend)": [m for m in mutants if len(m.backends) > 1
                                                        and m.runs_on(generation, m.backends[0])],
        "more than one KILLED_BY area": [m for m in mutants if len(m.killed_by) > 1],
    }
    for kind, members in kinds.items():
        if members and not [m for m in sampled if m in members]:
            problems.append(f"no sampled mutant of the kind {kind}; candidates: {[m.spec for m in members]}")
    return problems
