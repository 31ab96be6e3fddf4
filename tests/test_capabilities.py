"""Capabilities: how a layer claims them, what a claim changes in the verdict, and the capability table.

A capability (sparse or ragged inputs, int8 quantization, LoRA) is something ``keras.layers.Dense`` does beyond
the core contract. Its clauses run only for a layer that claims it; a claim that fails is a failure; a capability
that is not claimed is reported as ``not claimed``, neither passed nor failed. The honesty of the capability
clauses (Dense passes those of every capability it has) is checked in ``tests/test_honesty.py``.
"""

from __future__ import annotations

import importlib
import json

import pytest

from spec_tests import generation
from spec_tests.harness import capabilities, catalogue, selection
from spec_tests.harness.render import render_markdown
from spec_tests.harness.records import RunResult
from tests.support import MECHANICS, run_spec, tail
from tests.tiers import FULL

CAPABILITY_AREAS = ("sparse_inputs", "ragged_inputs", "quantization", "lora")
RUNTIME = capabilities.runtime()
HERE = capabilities.dense_capabilities(*RUNTIME)


def _modules(areas=CAPABILITY_AREAS) -> list[str]:
    return [catalogue.area_module(area) for area in areas]


def _report(folder, name: str = "report.json") -> dict:
    return json.loads((folder / name).read_text())


def _rows(report: dict) -> dict:
    return {row["capability"]: row for row in report["capabilities"]}


# --- the catalogue and the clauses agree ------------------------------------------------------------------------


def _clause_capabilities() -> dict[str, set[str]]:
    """Area -> the capabilities its clauses are marked with (module marks and function marks)."""
    found: dict[str, set[str]] = {}
    for area in CAPABILITY_AREAS:
        module = importlib.import_module(catalogue.area_module(area))
        marks = [getattr(module, "pytestmark", [])]
        marks += [getattr(obj, "pytestmark", []) for name, obj in vars(module).items() if name.startswith("test_")]
        marks = [mark for found in marks for mark in (found if isinstance(found, list) else [found])]
        found[area] = {str(mark.args[0]) for mark in marks if mark.name == catalogue.CAPABILITY_MARKER}
    return found


def test_every_capability_has_clauses_and_every_mark_names_a_capability():
    """Each catalogue capability is checked by some area's clauses, and each ``capability`` mark names a known one."""
    marked = _clause_capabilities()
    used = set().union(*marked.values())
    assert used <= set(catalogue.CAPABILITIES), f"unknown capabilities in marks: {used - set(catalogue.CAPABILITIES)}"
    assert set(catalogue.CAPABILITIES) <= used, f"capabilities without clauses: {set(catalogue.CAPABILITIES) - used}"
    assert all(marked.values()), f"capability areas whose clauses carry no capability mark: {marked}"


def test_catalogue_says_where_dense_has_each_capability():
    """The catalogue's places match what was measured: sparse on Keras 3 (TensorFlow) and 2, ragged on 2 only, the rest on 3."""
    expected = {(3, "tensorflow"): ("sparse_inputs", "quantize_int8", "lora"), (3, "jax"): ("quantize_int8", "lora"),
                (2, "tensorflow"): ("sparse_inputs", "ragged_inputs")}
    for runtime, names in expected.items():
        assert capabilities.dense_capabilities(*runtime) == names, runtime


# --- the capability table as data ---------------------------------------------------------------------------------


def test_rows_give_each_capability_its_status():
    """A claimed capability passes or fails by its clauses; one not claimed is 'not claimed'; one Dense lacks here is 'not checked here'."""
    outcomes = {"sparse_inputs": ["passed", "failed"], "ragged_inputs": ["skipped"],
                "quantize_int8": ["passed", "advisory"], "lora": [capabilities.NOT_CLAIMED]}
    table = {row["capability"]: row for row in capabilities.rows(
        {"sparse_inputs", "ragged_inputs", "quantize_int8"}, outcomes, 3, "tensorflow")}
    assert {name: row["status"] for name, row in table.items()} == {
        "sparse_inputs": "failed", "ragged_inputs": "not checked here", "quantize_int8": "passed",
        "lora": "not claimed"}
    assert table["quantize_int8"]["advisory"] == 1 and table["lora"][capabilities.NOT_CLAIMED] == 1
    assert capabilities.rows(set(), {}, 3, "tensorflow") == [], "no capability clause collected: no table"
    lines = capabilities.terminal_lines(list(table.values()))
    assert lines[0].split()[:2] == ["capability", "keras"] and "FAILED" in lines[1] and "not claimed" in lines[-1]


def test_run_result_keeps_the_capability_table_through_json():
    """``RunResult.capabilities`` survives ``to_dict``/``from_dict`` (the JSON report and the worker protocol)."""
    table = capabilities.rows({"lora"}, {"lora": ["passed"]}, 3, "tensorflow")
    result = RunResult({"spec": "m:C", "class": "m.C", "file": "m.py"}, {"name": "dense"}, {}, capabilities=table)
    assert RunResult.from_dict(json.loads(json.dumps(result.to_dict()))).capabilities == table


# --- claiming -----------------------------------------------------------------------------------------------------


class _Options:
    """What ``claimed_capabilities`` reads from a pytest config: ``--capabilities``."""

    def __init__(self, capabilities=None):
        self.capabilities = capabilities

    def getoption(self, name, default=None):
        return self.capabilities if name == "layer_spec_capabilities" else default

    def getini(self, name):
        return ""


class _Claims:
    layer_spec_capabilities = ("sparse_inputs",)


def test_claims_come_from_the_class_the_option_or_the_environment(monkeypatch):
    """A class claims its ``layer_spec_capabilities`` plus ``--capabilities`` (else ``LAYER_SPEC_CAPABILITIES``)."""
    monkeypatch.delenv("LAYER_SPEC_CAPABILITIES", raising=False)
    assert selection.claimed_capabilities(_Options(), _Claims) == {"sparse_inputs"}
    assert selection.claimed_capabilities(_Options("lora, quantize_int8"), _Claims) == {
        "sparse_inputs", "lora", "quantize_int8"}
    monkeypatch.setenv("LAYER_SPEC_CAPABILITIES", "lora")
    assert selection.claimed_capabilities(_Options(), object) == {"lora"}
    assert selection.claimed_capabilities(_Options("ragged_inputs"), object) == {"ragged_inputs"}, "option wins"


def test_the_generations_dense_claims_what_the_catalogue_says_it_has(monkeypatch):
    """The running generation's ``Dense`` claims exactly the capabilities the catalogue gives it here."""
    monkeypatch.delenv("LAYER_SPEC_CAPABILITIES", raising=False)
    assert selection.claimed_capabilities(_Options(), generation.Dense) == set(HERE)
    assert selection.claimed_capabilities(_Options(), type("DenseSubclass", (generation.Dense,), {})) == set()


def test_an_unknown_capability_name_is_refused(monkeypatch):
    """An unknown name, from the class or the option, is an ImplSpecError that lists the known names."""
    monkeypatch.delenv("LAYER_SPEC_CAPABILITIES", raising=False)
    with pytest.raises(selection.ImplSpecError, match="telepathy.*known: sparse_inputs"):
        selection.claimed_capabilities(_Options("sparse_inputs,telepathy"), object)
    with pytest.raises(selection.ImplSpecError, match="layer_spec_capabilities"):
        selection.claimed_capabilities(_Options(), type("Typo", (), {"layer_spec_capabilities": "sparse"}))


@FULL  # spec areas in a new process
def test_a_layer_that_claims_nothing_conforms_and_its_report_says_not_claimed(tmp_path):
    """A layer claiming no capability conforms; its terminal summary and reports list every capability as not claimed."""
    proc = run_spec(*_modules(), catalogue.area_module("bias"), "--impl", "layers:CustomGradientDense", "-q",
                    "--spec-report", "report.json", cwd=tmp_path)
    assert proc.returncode == 0, tail(proc.output)
    report = _report(tmp_path)
    assert report["conforms"], report["verdict"]
    rows = _rows(report)
    assert list(rows) == list(catalogue.CAPABILITIES)
    assert {row["status"] for row in rows.values()} == {"not claimed"}, rows
    assert all(row["passed"] == row["failed"] == 0 for row in rows.values())
    assert sum(row[capabilities.NOT_CLAIMED] for row in rows.values()) > 0
    assert {row["dense"] for row in rows.values()} == {True, False}
    assert "not claimed" in proc.output and "keras Dense (Keras" in proc.output, tail(proc.output)
    markdown = render_markdown(report)
    assert "## Capabilities" in markdown and markdown.count("| not claimed") == len(catalogue.CAPABILITIES), markdown


@FULL
def test_a_claim_that_fails_is_a_failure(tmp_path):
    """Claiming a capability the layer lacks (``--capabilities``) makes its clauses fail, and the layer not conform."""
    claim = next(name for name in ("lora", "ragged_inputs") if name in HERE)  # lora on Keras 3, ragged on Keras 2
    proc = run_spec(*_modules([claim]), "--impl", "layers:CustomGradientDense", "-q", "--spec-report", "report.json",
                    "--capabilities", claim, cwd=tmp_path)
    assert proc.returncode == 1, tail(proc.output)
    row = _rows(_report(tmp_path))[claim]
    assert row["claimed"] and row["status"] == "failed" and row["failed"] > 0, row


@FULL
@MECHANICS
def test_an_unknown_capability_is_one_usage_error(tmp_path):
    """``--capabilities`` with an unknown name is one usage error (exit 4) that lists the known names."""
    proc = run_spec(*_modules(["lora"]), "--capabilities", "sparse_inputs,telepathy", cwd=tmp_path)
    assert proc.returncode == 4, tail(proc.output)
    assert "telepathy" in proc.output and "quantize_int8" in proc.output, tail(proc.output)


def test_an_error_whose_message_cannot_be_printed_is_reported_not_fatal():
    """An exception whose ``str()`` raises (as TensorFlow's ragged shapes of a finished graph do) still gets a text."""
    from spec_tests.harness.text import exception_text

    class Unprintable:
        def __repr__(self):
            raise ValueError("defined in a FuncGraph which is out of scope")

    assert "cannot be printed" in exception_text(TypeError(Unprintable()))
    assert exception_text(TypeError("plain")) == "plain"
