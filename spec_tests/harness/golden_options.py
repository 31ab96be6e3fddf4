"""Where the compatibility clauses find their golden set: ``--spec-golden``, its variable, ini key and class attribute.

Kept apart from :mod:`~spec_tests.harness.golden`, which must import in older Keras releases without the spec.
"""

from __future__ import annotations

import dataclasses
import inspect
import json
from pathlib import Path

from spec_tests import environment
from spec_tests.harness.golden import CONFIGURATIONS_ATTRIBUTE, GOLDEN_ATTRIBUTE
from spec_tests.harness.selection import add_option, setting


@dataclasses.dataclass(frozen=True)
class Source:
    directory: Path
    origin: str  # the flag, variable, ini key or class attribute that named it
    update: bool  # write (or rewrite) it before reading


def pytest_addoption(parser):
    add_option(parser, "--spec-golden", metavar="DIR", ini=environment.INI_KEYS[environment.GOLDEN],
               ini_type="string", help="the golden set the compatibility clauses read: files an earlier version of "
               f"the layer wrote (default: ${environment.GOLDEN}, else the class attribute {GOLDEN_ATTRIBUTE}, else "
               "a set this run writes and reads back)")
    add_option(parser, "--spec-golden-update", action="store_true", default=False,
               help="write (or rewrite) the --spec-golden set with the current code before reading it")
    parser.addini(environment.INI_KEYS[environment.GOLDEN_CONFIGURATIONS], type="string",
                  help=f"the layer's own golden configurations as JSON {{name: {{kwargs}}}}, for a class without "
                  f"the attribute {CONFIGURATIONS_ATTRIBUTE} (also ${environment.GOLDEN_CONFIGURATIONS})")


def source(config, cls) -> Source | None:
    """The set to read: the flag, variable or ini key, else the class attribute; None: write one and read it back."""
    value, origin = setting(config, "layer_spec_spec_golden", environment.GOLDEN)
    update = bool(config.getoption("layer_spec_spec_golden_update", False))
    if value:
        return Source(Path(value).expanduser().resolve(), origin, update)
    attribute = getattr(cls, GOLDEN_ATTRIBUTE, None)
    if attribute:
        return Source((Path(inspect.getfile(cls)).parent / attribute).resolve(), f"{cls.__name__}.{GOLDEN_ATTRIBUTE}",
                      update)
    return None


def ini_configurations(config) -> dict:
    """The declared configurations of the ini key or its variable (JSON), {} when neither is set."""
    value, origin = setting(config, "layer_spec_golden_configurations", environment.GOLDEN_CONFIGURATIONS,
                            environment.INI_KEYS[environment.GOLDEN_CONFIGURATIONS])
    if not value:
        return {}
    try:
        parsed = json.loads(value)
    except json.JSONDecodeError as exc:
        raise ValueError(f"{origin}: expected JSON {{name: {{constructor kwargs}}}}, seen {value!r}: {exc}") from exc
    if not isinstance(parsed, dict) or not all(isinstance(kwargs, dict) for kwargs in parsed.values()):
        raise ValueError(f"{origin}: expected JSON {{name: {{constructor kwargs}}}}, seen {value!r}")
    return parsed
