"""Short failures: a failed clause shows its rule, what was expected and seen, the hint and the layer's own frames.

A clause fails deep inside the spec's helpers and Keras's internals, and pytest's default traceback shows pages
of both. When the spec runs and the user chose no ``--tb``, this part replaces a failed clause's traceback by::

    rule: Under a mixed policy the output has the compute dtype ...
    SpecFailure: float16 output against float64 numpy: expected ..., seen ...
    hint: ...
    your code: my_layer.py:15 in call
        return self.activation(keras.ops.matmul(inputs, self.kernel) + self.bias)
    (--tb=long shows the spec's and Keras's frames too)

``--tb=long`` (or any other ``--tb``) keeps pytest's own traceback, whole.

The short test summary names a failure by its expected/seen line alone: pytest prints a string ``longrepr``
whole there when it runs on CI (``CI`` or ``BUILD_NUMBER`` set), which would print every failure twice.
"""

from __future__ import annotations

import os
import traceback
import types

import pytest

from spec_tests.harness import catalogue, selection
from spec_tests.harness.text import exception_chain

#: At most this many frames of the layer's own code per failure.
MAX_FRAMES = 3
_MORE = "(--tb=long shows the spec's and Keras's frames too)"
_FIRST_KEY = pytest.StashKey[dict]()


def _shown(path: str) -> str:
    """A path relative to the current folder when it lies below it, else as it is."""
    relative = os.path.relpath(path)
    return path if relative.startswith("..") else relative


def own_frames(exc: BaseException, files: frozenset) -> list[str]:
    """The frames of the implementation's files that the exception (or one it was raised from) passed through,
    innermost last, as ``path:line in func`` and the source line."""
    lines, seen = [], set()
    for link in reversed(list(exception_chain(exc))):  # the original error first: its frames are the user's
        for frame in traceback.extract_tb(link.__traceback__):
            if os.path.realpath(frame.filename) not in files or (frame.filename, frame.lineno) in seen:
                continue
            seen.add((frame.filename, frame.lineno))
            lines.append(f"{_shown(frame.filename)}:{frame.lineno} in {frame.name}"
                         + (f"\n    {frame.line.strip()}" if frame.line else ""))
    return lines[-MAX_FRAMES:]


class ShortFailure:
    """A failed clause's ``longrepr``: the short text in the failure's section, and its one-line headline
    (``reprcrash.message``) in the short test summary and in JUnit XML's message attribute."""

    def __init__(self, text: str, headline: str):
        self.text = text
        self.reprcrash = types.SimpleNamespace(message=headline, path="", lineno=0)

    def toterminal(self, tw) -> None:
        for line in self.text.splitlines():
            tw.line(line)

    def __str__(self) -> str:
        return self.text


def _headline(report, exc: BaseException) -> str:
    lines = (getattr(report, "spec_message", "") or f"{type(exc).__name__}: {exc}").splitlines()
    return lines[0] if lines else type(exc).__name__


def compact_text(report, exc: BaseException, files: frozenset) -> str:
    """The short failure text of a clause's report (tagged by the report and hints parts)."""
    out = []
    rule = getattr(report, "spec_rule", "")
    if rule:
        out.append(f"rule: {rule}")
    out.append(getattr(report, "spec_message", "") or f"{type(exc).__name__}: {exc}")
    hint, pitfall = getattr(report, "spec_hint", None), getattr(report, "spec_pitfall", None)
    if hint:
        out.append(f"hint: {hint}")
    if pitfall:
        out.append(f"known pitfall: {pitfall}")
    frames = own_frames(exc, files)
    if frames:
        out.append("your code: " + frames[-1] if len(frames) == 1 else "your code, innermost last:")
        if len(frames) > 1:
            out += [f"  {frame}" for frame in frames]
    out.append(_MORE)
    return "\n".join(out)


def wanted(config) -> bool:
    """Whether the user left the traceback style to us: no ``--tb`` on the command line or in addopts."""
    return getattr(config.option, "tbstyle", "auto") == "auto"


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    """Registered after the report and hints parts, so the outermost wrapper: it sees their tags."""
    report = yield
    if not report.failed or call.excinfo is None or not isinstance(call.excinfo.value, Exception):
        return report
    if not wanted(item.config) or selection.active(item.config) is None or not catalogue.is_clause(item):
        return report
    from spec_tests.harness.report import implementation_files

    state = selection.state_of(item)
    key = (state.id, _cause_of(report))
    first = item.config.stash.setdefault(_FIRST_KEY, {})
    if key[1] and key in first:  # the same mistake again: one line, the first failure above has the rest
        message = (getattr(report, "spec_message", "") or str(call.excinfo.value)).splitlines()[0]
        report.longrepr = f"{message} (the same cause as {first[key]} above)"
        return report
    first.setdefault(key, item.name)
    text = compact_text(report, call.excinfo.value, implementation_files(item.config, state))
    report.longrepr = ShortFailure(text, _headline(report, call.excinfo.value))
    return report


def _cause_of(report) -> str:
    """The known pitfall or the clause's own fix a failure names ('' when neither): what makes two failures one."""
    return getattr(report, "spec_pitfall_name", None) or (getattr(report, "spec_hint", None) or "")[:80]


__all__ = ["MAX_FRAMES", "ShortFailure", "compact_text", "own_frames", "wanted"]
