"""Rerun one cause: ``--spec-cause NAME`` runs only the clauses that failed for that cause in the last run.

At the end of every run the report part hands its causes to
:func:`remember_causes`, which keeps each cause's clause ids in pytest's cache
(``.pytest_cache``, under :data:`CAUSES_CACHE`), per implementation, profile and
Keras generation, beside the causes of earlier runs. ``--spec-cause NAME``
(``layer-spec check ... --cause NAME``) deselects every other clause. A name is
the pitfall's name from the hint table, or ``<exception type>-<digest>``.
Without pytest's cache (``-p no:cacheprovider``) no rerun command is offered.
"""

from __future__ import annotations

import os
import shlex

import pytest

from spec_tests import environment
from spec_tests.harness import catalogue, selection

#: pytest's cache entry for the last run's causes: "impl|profile|generation" -> {cause: [clause ids]}.
CAUSES_CACHE = "layer-spec/causes"
#: Set by ``layer-spec check``: its own command to rerun one cause, less the cause's name.
RERUN_ENV = environment.RERUN


def pytest_addoption(parser):
    selection.add_option(parser, "--spec-cause", dest="layer_spec_cause", action="append", metavar="CAUSE",
                         help="run only the clauses that failed for this cause in the last run in this folder (the "
                         "name each cause shows after `rerun:`; repeatable)")


def _cache_entry(spec: str, profile: str) -> str:
    from spec_tests import generation

    return f"{spec}|{profile}|{generation.GENERATION}"


def rerun_prefix(config, state=None) -> str:
    """The command that reruns one cause of ``state`` (default: the run's first implementation), less the
    cause's name; '' without pytest's cache. ``layer-spec check`` passes its own command as a template."""
    if getattr(config, "cache", None) is None:
        return ""
    state = state or selection.resolve(config)
    impl = shlex.quote(state.choice)
    if os.environ.get(RERUN_ENV):
        return os.environ[RERUN_ENV].replace("{impl}", impl)
    from spec_tests import generation

    legacy = "TF_USE_LEGACY_KERAS=1 " if generation.LEGACY else ""
    return f"{legacy}pytest --pyargs spec_tests --impl {impl} --spec-cause"


def remember_causes(config, result) -> None:
    """Keep this run's causes (name -> clause ids) for ``--spec-cause``, beside those of earlier runs."""
    cache = getattr(config, "cache", None)
    if cache is None:
        return
    stored = cache.get(CAUSES_CACHE, {})
    entry = stored.setdefault(_cache_entry(result.implementation["spec"], result.profile["name"]), {})
    for outcome in ("failed", "advisory"):
        for cause in result.causes(outcome):
            entry[cause.slug] = [clause.id for clause in cause.clauses]
    cache.set(CAUSES_CACHE, stored)


def pytest_collection_modifyitems(config, items):
    wanted = config.getoption("layer_spec_cause", None)
    if not wanted or not items:
        return
    cache = getattr(config, "cache", None)
    state = selection.resolve(config)
    entry = _cache_entry(state.spec, state.profile)
    known = (cache.get(CAUSES_CACHE, {}) if cache is not None else {}).get(entry, {})
    unknown = [name for name in wanted if name not in known]
    if unknown:
        spec, profile, generation = entry.split("|")
        raise pytest.UsageError(
            f"--spec-cause {', '.join(unknown)}: no such cause in the last runs of {spec} (profile {profile}, Keras "
            f"{generation}) in this folder; known: {', '.join(sorted(known)) or 'none (run the whole check first)'}")
    ids = {clause_id for name in wanted for clause_id in known[name]}
    keep = [item for item in items if catalogue.is_clause(item) and catalogue.item_ids(item)[1] in ids]
    kept = {id(item) for item in keep}
    config.hook.pytest_deselected(items=[item for item in items if id(item) not in kept])
    items[:] = keep


__all__ = ["CAUSES_CACHE", "RERUN_ENV", "remember_causes", "rerun_prefix"]
