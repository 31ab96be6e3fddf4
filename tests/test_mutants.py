"""The mutant zoo's meta test: the spec rejects every mutant, in every area its ``KILLED_BY`` names.

A mutant (see ``mutants/__init__.py``) is a realistic broken dense layer. For
each one, the spec areas in its ``KILLED_BY`` run against it (``--impl
mutants.<area>:<Class>``) and each must have at least one failing MUST clause;
an advisory-only mutant (``ADVISORY_ONLY = True``: only the form of a refusal
is wrong) must instead get an advisory, and no MUST failure, in each. The
failing clauses are printed (``pytest -rA`` or ``-s`` shows them), so the test
also records *which* clauses reject each mutant.

Speed: the runs happen in worker processes that import TensorFlow once and run
``pytest.main`` in-process, job after job (``spec_tests/harness/runs.py``). Outside
xdist, two workers (``MUTANTS_WORKERS``) start at once and work through every
collected mutant in the order pytest will ask for them; under xdist each xdist
worker keeps one. To stay within minutes, each area stops at its first failing
clause (the rest of it is skipped): that clause is the one recorded.
``MUTANTS_ALL_CLAUSES=1`` runs and records every failing clause.

``python -m mutants.matrix --kill-matrix PATH`` runs every mutant against every area.
"""

from __future__ import annotations

import os

import pytest

from layers._compat import GENERATION, keras
from mutants import DEFAULT_GENERATIONS, discover, spec_areas
from spec_tests.backend import ALL_BACKENDS, BACKEND
from spec_tests.harness.catalogue import PROFILES
from spec_tests.harness.runs import Job
from tests.pool_runs import pool_runs, register
from tests.tiers import MUTANT_SAMPLE, full_unless

MUTANTS, IMPORT_ERRORS = discover()
AREAS = spec_areas()
MIN_MUTANTS = 30
# Each area stops at its first failing clause unless MUTANTS_ALL_CLAUSES=1 (slower; the kill matrix has them all).
FIRST_FAILURE = os.environ.get("MUTANTS_ALL_CLAUSES", "").strip().lower() not in ("1", "true", "yes")
REJECTION_TEST = "test_spec_rejects_mutant"


def _job(mutant) -> Job:
    return Job(spec=mutant.spec, areas=mutant.killed_by, profile=mutant.profile, first_failure=FIRST_FAILURE)


register(REJECTION_TEST, "mutant", _job, lambda mutant: mutant.runs_on(GENERATION, BACKEND))


@pytest.fixture(scope="module")
def zoo_runs(request):
    """``run(mutant) -> RunResult``, answered by the session's pool of in-process spec runners."""
    with pool_runs(request, REJECTION_TEST) as run:
        yield run


def test_mutant_modules_import():
    """Every module in ``mutants/`` imports (a broken one would hide its mutants)."""
    assert not IMPORT_ERRORS, "mutant modules that fail to import:\n" + "\n".join(
        f"--- mutants.{name}\n{tb}" for name, tb in IMPORT_ERRORS.items()
    )


def test_zoo_has_at_least_30_mutants():
    """The zoo holds at least 30 mutants."""
    assert len(MUTANTS) >= MIN_MUTANTS, (
        f"mutant count: expected >= {MIN_MUTANTS}, seen {len(MUTANTS)}: {[m.spec for m in MUTANTS]}"
    )


def test_mutant_class_names_are_unique():
    """Mutant class names are unique across the zoo: they share the serialization package ``mutants``."""
    seen: dict[str, str] = {}
    duplicates = []
    for mutant in MUTANTS:
        if mutant.name in seen:
            duplicates.append(f"{mutant.name} ({seen[mutant.name]} and {mutant.spec})")
        seen[mutant.name] = mutant.spec
    assert not duplicates, (
        f"duplicate mutant class names: {duplicates}; the later registration of 'mutants>Name' replaces the "
        "earlier one, so deserializing one mutant would give the other"
    )


@pytest.mark.parametrize("mutant", MUTANTS, ids=[m.spec for m in MUTANTS])
def test_mutant_is_well_formed(mutant):
    """A mutant names its mistake, lists existing areas in KILLED_BY, and is registered under ``mutants``."""
    problems = []
    if not mutant.doc:
        problems.append("no docstring: its first line must name the mistake")
    if not mutant.killed_by:
        problems.append("KILLED_BY is empty")
    unknown = [area for area in mutant.killed_by if area not in AREAS]
    if unknown:
        problems.append(f"KILLED_BY names areas with no spec_tests/test_<area>.py: {unknown} (areas: {AREAS})")
    if mutant.profile not in PROFILES:
        problems.append(f"PROFILE {mutant.profile!r} is not one of the spec's profiles: {', '.join(PROFILES)}")
    if not mutant.generations or not set(mutant.generations) <= set(DEFAULT_GENERATIONS):
        problems.append(f"GENERATIONS {mutant.generations!r} must be a non-empty subset of {DEFAULT_GENERATIONS}")
    if not set(mutant.backends) <= set(ALL_BACKENDS):
        problems.append(f"layer_spec_backends {mutant.backends!r} must be a subset of {ALL_BACKENDS}")
    registered = keras.utils.get_registered_name(mutant.cls)
    package = getattr(mutant.cls, "MUTANT_PACKAGE", "mutants")  # a mutant whose mistake is its package names it
    if registered != f"{package}>{mutant.name}":
        problems.append(f"registered name {registered!r}, expected '{package}>{mutant.name}' "
                        f'(decorate it with @register_serializable(package="{package}"))')
    assert not problems, f"{mutant.spec}: " + "; ".join(problems)


def test_keras_ops_mutants_run_on_tensorflow_and_jax():
    """At least five mutants are written with keras.ops only and declare TensorFlow and JAX, so both backends reject them."""
    if GENERATION == 2:
        pytest.skip("legacy Keras 2 has no keras.ops; its only backend is TensorFlow")
    portable = [m.spec for m in MUTANTS if {"tensorflow", "jax"} <= set(m.backends)]
    assert len(portable) >= 5, f"keras.ops mutants for TensorFlow and JAX: expected >= 5, seen {portable}"


def test_every_area_is_in_some_killed_by():
    """Every spec area is named in the KILLED_BY of at least one mutant its MUST clauses reject, so no area is dead weight."""
    covered = {area for mutant in MUTANTS if not mutant.advisory_only for area in mutant.killed_by}
    missing = [area for area in AREAS if area not in covered]
    assert not missing, f"spec areas no mutant lists in KILLED_BY: expected none, seen {missing}"


@pytest.mark.parametrize("mutant", [pytest.param(m, id=m.spec, marks=full_unless(m.spec in MUTANT_SAMPLE))
                                     for m in MUTANTS])
def test_spec_rejects_mutant(mutant, zoo_runs):
    """Each area in the mutant's KILLED_BY has a failing MUST clause for it (an advisory-only mutant: an advisory, no MUST failure).

    The default tier checks the sample ``tests.tiers.MUTANT_SAMPLE``; ``--full`` the whole zoo."""
    if not mutant.runs_on(GENERATION):
        pytest.skip(f"{mutant.spec} is a Keras {'/'.join(map(str, mutant.generations))} mistake; "
                    f"this run is Keras {GENERATION}")
    if not mutant.runs_on(GENERATION, BACKEND):
        pytest.skip(f"{mutant.spec} runs on {', '.join(mutant.backends)} (its layer_spec_backends); "
                    f"this run's backend is {BACKEND}")
    result = zoo_runs(mutant)
    assert result.error is None, f"{mutant.spec}: the spec run itself failed: {result.error}"
    print(f"{mutant.spec}: {mutant.doc}  ({result.seconds:.1f} s, profile {mutant.profile})")
    for area in mutant.killed_by:
        counts = result.area_counts(area)
        print(f"  {area}: {counts['failed']} failed, {counts['advisory']} advisory, {counts['passed']} passed, "
              f"{counts['skipped']} skipped")
        for clause in result.failed_in(area):
            print(f"    {clause.name}: {clause.first_line}")
        for clause in result.advisories_in(area):
            print(f"    advisory {clause.name}: {clause.first_line}")
    if mutant.advisory_only:
        _assert_advised_only(mutant, result)
    else:
        accepted = [
            f"{area} ({result.area_counts(area)['passed']} passed, {result.area_counts(area)['advisory']} advisory, "
            f"{result.area_counts(area)['skipped']} skipped)"
            for area in mutant.killed_by
            if not result.killed_by(area)
        ]
        assert not accepted, (
            f"{mutant.spec} ({mutant.doc}): expected every KILLED_BY area to reject it with a failing MUST clause, "
            f"seen these areas accept it: {', '.join(accepted)}"
        )
    passed = result.totals()["passed"]
    assert FIRST_FAILURE or passed >= 1, (
        f"{mutant.spec}: expected a realistic mistake that still passes some clauses, seen every clause fail "
        "(is it trivially broken?)"
    )


def _assert_advised_only(mutant, result) -> None:
    """An advisory-only mutant: an advisory in every KILLED_BY area, and no MUST failure there (else the mark lies)."""
    unadvised = [area for area in mutant.killed_by if not result.advisories_in(area)]
    killed = {area: [clause.name for clause in result.failed_in(area)] for area in mutant.killed_by
              if result.killed_by(area)}
    assert not unadvised, (
        f"{mutant.spec} ({mutant.doc}), advisory only: expected an advisory (a failed SHOULD clause) in every "
        f"KILLED_BY area, seen none in {unadvised}"
    )
    assert not killed, (
        f"{mutant.spec} ({mutant.doc}): marked ADVISORY_ONLY, but MUST clauses reject it: {killed}; "
        "remove ADVISORY_ONLY (its mistake is more than the form of a refusal)"
    )
