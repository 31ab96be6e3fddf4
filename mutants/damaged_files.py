"""Mutants the damaged-file clauses reject: layers that load their weights from a file without checking it first.

Each class is the reference ``MyDenseLayer`` with one realistic mistake; the first line of its docstring
names it.
"""

from __future__ import annotations

from layers import MyDenseLayer
from layers._compat import register_serializable


@register_serializable(package="mutants")
class LoadsVariablesOneByOne(MyDenseLayer):
    """Overrides load_own_variables to assign stored entries one by one without counting them, so a damaged file half-loads."""

    KILLED_BY = ("damaged_files",)

    def load_own_variables(self, store):
        # the mistake: no check that the store holds exactly one entry per weight before the first assign
        for index, variable in enumerate(self.weights):
            variable.assign(store[str(index)])
