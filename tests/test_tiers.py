"""The tiers (``tests/tiers.py``): the default tier's samples follow their rule, and ``--full`` leaves nothing out."""

from __future__ import annotations

import pytest

from layers._compat import GENERATION
from mutants import discover
from spec_tests.backend import ALL_BACKENDS
from tests.correct_layers import CORRECT_LAYERS
from tests.tiers import (CORRECT_SAMPLE, DESELECTED, FULL, FULL_OPTION, MUTANT_SAMPLE, deselected_line, rule_violations,
                         split_tiers)
from tests.test_correct_layers import _backends

MUTANTS, _ = discover()


def test_mutant_sample_follows_its_rule():
    """Every area, every mutant that alone lists an area, every kind of mutant: in the sample, on each backend."""
    problems = rule_violations(MUTANT_SAMPLE, MUTANTS, GENERATION, ALL_BACKENDS)
    assert not problems, "the default tier's mutant sample (tests/tiers.py) breaks its rule:\n" + "\n".join(problems)
    assert len(set(MUTANT_SAMPLE)) == len(MUTANT_SAMPLE), f"a mutant sampled twice: {MUTANT_SAMPLE}"


def test_rule_catches_a_sample_missing_the_only_mutant_of_an_area():
    """The rule is not vacuous: without the one mutant listing ``damaged_files``, it names that mutant."""
    alone = "mutants.damaged_files:LoadsVariablesOneByOne"
    problems = rule_violations([spec for spec in MUTANT_SAMPLE if spec != alone], MUTANTS, GENERATION, ("tensorflow",))
    assert [p for p in problems if p.startswith(alone) and "the only MUST mutant listing 'damaged_files'" in p], problems


def test_correct_sample_meets_both_generations_and_jax():
    """The sampled correct layers exist, at least two run on each generation, and one runs under JAX."""
    unknown = sorted(set(CORRECT_SAMPLE) - set(CORRECT_LAYERS))
    assert not unknown, f"sampled correct layers not in tests/correct_layers: {unknown}"
    for generation in (2, 3):
        count = sum(generation in CORRECT_LAYERS[spec] for spec in CORRECT_SAMPLE)
        assert count >= 2, f"sampled correct layers for Keras {generation}: expected >= 2, seen {count}"
    if GENERATION == 3:  # the Keras 3 layers import only there
        on_jax = [spec for spec in CORRECT_SAMPLE if 3 in CORRECT_LAYERS[spec] and "jax" in _backends(spec)]
        assert on_jax, f"no sampled correct layer declares jax: {CORRECT_SAMPLE}"


class _Item:
    def __init__(self, name, *marks):
        self.name, self.marks = name, {mark.name: mark for mark in marks}

    def get_closest_marker(self, name):
        return self.marks.get(name)


def test_split_keeps_order_and_sends_only_marked_items_to_the_full_tier():
    items = [_Item("a"), _Item("b", FULL.mark), _Item("c", pytest.mark.slow_clause.mark), _Item("d", FULL.mark)]
    default, full = split_tiers(items)
    assert [i.name for i in default] == ["a", "c"] and [i.name for i in full] == ["b", "d"]


def test_the_closing_line_says_how_many_and_how_to_run_them():
    assert deselected_line(0) == ""
    line = deselected_line(42)
    assert "42 full-tier test(s) deselected" in line and line.endswith(f"pytest tests {FULL_OPTION}")


def test_this_run_deselects_the_full_tier_unless_asked(request):
    """In this very session: without ``--full`` no collected test is of the full tier; with it, nothing is deselected."""
    full = [item.nodeid for item in request.session.items if item.get_closest_marker("full")]
    if request.config.getoption(FULL_OPTION):
        assert request.config.stash[DESELECTED] == 0, "--full deselected full-tier tests"
    else:
        assert not full, f"without {FULL_OPTION}, full-tier tests ran: {full[:5]}"
