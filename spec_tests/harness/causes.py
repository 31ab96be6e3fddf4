"""Causes: the failed clauses of a run grouped by the mistake behind them, biggest first.

A broken layer usually has one or two mistakes that fail dozens of clauses; a
reader needs the list of mistakes first. The rule is :data:`RULE`. For a spec
check, ``<what>: expected X, seen Y``, only ``expected X, seen Y`` counts:
``<what>`` names the clause, not the mistake (unless ``expected X, seen Y`` is
nothing but values, like ``expected (4, 2), seen (2, 4)``).

Pure functions of :class:`~spec_tests.harness.results.ClauseResult`s (and, for
:func:`origin_of`, of an exception), so a saved JSON report groups the same way
as a live run. Failures and advisories (failed SHOULD clauses) are grouped
separately: :func:`group` takes one list at a time.
"""

from __future__ import annotations

import collections
import dataclasses
import hashlib
import os
import re
import traceback

from spec_tests.harness.catalogue import area_sort_key
from spec_tests.harness.hints import HINTS
from spec_tests.harness.text import exception_chain

#: The grouping rule, in one sentence (the report and the README quote it).
RULE = ("clauses share a cause when the hint table recognises the same known pitfall in them, else when they "
        "give the same fix, else when the "
        "same exception type was raised at the same line of the implementation's code, else when their messages "
        "read the same once numbers, shapes, quoted names, dtypes and addresses are taken out (for a spec check, "
        "only its `expected ..., seen ...` part counts)")
#: Exception types a clause raises for its own checks (``helpers.fail``, a bare ``assert``).
CHECK_TYPES = ("SpecFailure", "AssertionError")
_PLACEHOLDER = "…"
_CHECK = re.compile(r"^.*?: expected (?P<expected>.*), seen (?P<seen>.*)$", re.DOTALL)
_SETUP = re.compile(r"^\(error in \w+\) ")
_WORD = re.compile(r"[A-Za-z]{2,}")
_DTYPES = r"(?:b?float|u?int|complex)(?:8|16|32|64|128)?|half|double|bool|string"
#: Normalisation steps, in order: what varies between failures of one mistake becomes "…".
_NORMALISE = (
    (re.compile(r"\x1b\[[0-9;]*m"), ""),
    (re.compile(r"0x[0-9a-fA-F]+"), _PLACEHOLDER),  # addresses
    (re.compile(r"<[^<>\n]*>"), f"<{_PLACEHOLDER}>"),  # object reprs
    (re.compile(r"\bnp\.\w+\(([^()]*)\)"), r"\1"),  # np.float64(1.5) -> 1.5
    (re.compile(r"'[^'\n]*'|\"[^\"\n]*\"|`[^`\n]*`"), f"'{_PLACEHOLDER}'"),  # quoted names
    (re.compile(rf"\b(?:tf\.)?(?:{_DTYPES})\b"), _PLACEHOLDER),  # dtype names
    (re.compile(r"\b[A-Za-z_]\w*?_\d+\b"), _PLACEHOLDER),  # auto-numbered names: my_dense_layer_3
    (re.compile(r"(?<![\w.])[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?|\b(?:nan|inf)\b"), _PLACEHOLDER),  # numbers
)
_ITEM = rf"(?:{_PLACEHOLDER}|'{_PLACEHOLDER}'|None|True|False|\.\.\.|\?)"
_SHAPE = re.compile(rf"[(\[]\s*(?:{_ITEM}\s*(?:,\s*{_ITEM}\s*)*,?)?\s*[)\]]")


def normalise(text: str) -> str:
    """``text`` with numbers, shapes, quoted names, dtypes and addresses taken out (each becomes ``…``)."""
    for pattern, replacement in _NORMALISE:
        text = pattern.sub(replacement, text)
    for _ in range(3):  # nested shapes: [(…, …), (…, …)]
        text = _SHAPE.sub(_PLACEHOLDER, text)
    return " ".join(text.split())


def _table(name: str | None):
    return next((hint for hint in HINTS if hint.name == name), None)


def _exc_type(clause) -> str:
    if clause.exc_type:
        return clause.exc_type
    first = _SETUP.sub("", clause.first_line)
    return first.split(":", 1)[0].rsplit(".", 1)[-1] if ":" in first else "Failure"


def pitfall_name(clause) -> str | None:
    """The hint table's name for the pitfall recognised in this failure (also for reports saved without it)."""
    if clause.pitfall_name:
        return clause.pitfall_name
    known = {hint.text(): hint.name for hint in HINTS}
    return known.get(clause.pitfall or "") or known.get(clause.hint or "")


def failure_text(clause) -> str:
    """What a failure says, normalised: ``expected X, seen Y`` for a spec check, else the whole message."""
    message = _SETUP.sub("", clause.message.strip())
    exc_type = _exc_type(clause)
    body = message.split(": ", 1)[1] if message.split(": ", 1)[0].rsplit(".", 1)[-1] == exc_type else message
    check = _CHECK.match(body.splitlines()[0] if body else "") if exc_type in CHECK_TYPES else None
    if not check:
        return normalise(body)
    text = normalise(f"expected {check['expected']}, seen {check['seen']}")
    if len(_WORD.findall(text)) < 4:  # "expected …, seen …" alone says nothing: what was measured then counts
        return normalise(check.string.split(": expected ", 1)[0]) + ": " + text
    return text


def cause_key(clause) -> tuple[str, str]:
    """``(kind, text)``: ``("pitfall", name)``, ``("raised", "Type at file:line in func")`` or ``("message", ...)``."""
    name = pitfall_name(clause)
    if name:
        return "pitfall", name
    if clause.origin:
        return "raised", f"{clause.origin_type or _exc_type(clause)} at {clause.origin}"
    return "message", f"{_exc_type(clause)}: {failure_text(clause)}"


@dataclasses.dataclass
class Cause:
    """Clauses that fail for one reason, with one of them to show, and the fix where one is known."""

    kind: str  # pitfall, raised or message
    text: str  # the pitfall's name, "Type at file:line in func", or "Type: normalised message"
    clauses: list  # ClauseResult, in reading order

    @property
    def slug(self) -> str:
        """A short name for this cause, for ``--spec-cause``: the pitfall's name, else ``<type>-<digest>``."""
        if self.kind == "pitfall":
            return self.text
        digest = hashlib.sha1(f"{self.kind}:{self.text}".encode()).hexdigest()[:6]
        return f"{re.split(r'[ :]', self.text, maxsplit=1)[0].lower()}-{digest}"

    @property
    def representative(self):
        """The clause to show: the first in reading order, preferring one with a hint and a short message."""
        return min(self.clauses, key=lambda c: (c.hint is None, area_sort_key(c.area), len(c.first_line), c.id))

    @property
    def title(self) -> str:
        hint = _table(self.text) if self.kind == "pitfall" else None
        if hint is not None:
            return f"known pitfall {hint.name}: {hint.what}"
        if self.kind == "raised":
            return f"{self.text.replace(' at ', ' raised at ', 1)}"
        return self.text

    @property
    def fix(self) -> str | None:
        """The table's fix for a known pitfall, else the representative clause's own hint."""
        hint = _table(self.text) if self.kind == "pitfall" else None
        if hint is not None:
            return hint.fix
        own = self.representative.hint
        return own.split("Usual fix: ", 1)[-1] if own else None

    @property
    def origin(self) -> str:
        """Where the implementation raised it: the commonest origin among the clauses ('' if none)."""
        origins = collections.Counter(c.origin for c in self.clauses if c.origin)
        return origins.most_common(1)[0][0] if origins else ""

    def areas(self) -> dict[str, int]:
        counts = collections.Counter(clause.area for clause in self.clauses)
        return {area: counts[area] for area in sorted(counts, key=area_sort_key)}

    def rerun(self, prefix: str) -> str:
        return f"{prefix} {self.slug}" if prefix else ""

    def as_dict(self, rerun_prefix: str = "") -> dict:
        rep = self.representative
        return {"cause": self.slug, "kind": self.kind, "title": self.title, "count": len(self.clauses),
                "areas": self.areas(), "fix": self.fix, "origin": self.origin,
                "example": {"id": rep.id, "area": rep.area, "clause": rep.name, "message": rep.first_line,
                            "hint": rep.hint},
                "rerun": self.rerun(rerun_prefix), "ids": [clause.id for clause in self.clauses]}


def own_fix(clause) -> str | None:
    """The fix a clause named itself (its own hint, not the table's), normalised; None when it named none."""
    if not clause.hint or pitfall_name(clause):
        return None
    return normalise(clause.hint.split("Usual fix: ", 1)[-1])


def group(clauses) -> list[Cause]:
    """The causes of these failed clauses: most clauses first, then in reading order.

    Clauses are grouped by :func:`cause_key`; then groups whose clauses name the same fix (their own hint) are one
    cause, whatever their messages: one mistake, one fix (a dropped mask fails eager, symbolic, warning and value
    clauses with four different messages and one fix).
    """
    ordered = sorted(clauses, key=lambda c: (area_sort_key(c.area), c.id))
    groups: dict[tuple[str, str], list] = {}
    for clause in ordered:
        groups.setdefault(cause_key(clause), []).append(clause)
    parent = {key: key for key in groups}  # union-find over the groups, the biggest group as each root

    def root(key):
        while parent[key] != key:
            key = parent[key]
        return key

    by_fix: dict[str, tuple[str, str]] = {}
    for key, members in sorted(groups.items(), key=lambda item: -len(item[1])):
        for fix in dict.fromkeys(filter(None, map(own_fix, members))):
            first, mine = root(by_fix.setdefault(fix, key)), root(key)
            if first != mine:
                parent[mine] = first
    merged: dict[tuple[str, str], list] = {}
    for key, members in groups.items():
        merged.setdefault(root(key), []).extend(members)
    causes = [Cause(kind, text, sorted(members, key=lambda c: (area_sort_key(c.area), c.id)))
              for (kind, text), members in merged.items()]
    return sorted(causes, key=lambda cause: (-len(cause.clauses), area_sort_key(cause.clauses[0].area)))


# --------------------------------------------------------------------------- as text

#: How many causes the terminal shows in full; the others get one line each.
SHOWN_IN_FULL = 5


def _clip(text: str, width: int = 220) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + _PLACEHOLDER


def describe(causes: list[Cause], one: str = "failed clause", many: str = "failed clauses") -> str:
    """``67 failed clauses, 1 cause (most clauses first)``."""
    total = sum(len(cause.clauses) for cause in causes)
    return (f"{total} {one if total == 1 else many}, {len(causes)} cause{'s' if len(causes) != 1 else ''}"
            " (most clauses first)")


def lines(causes: list[Cause], rerun_prefix: str = "", full: int = SHOWN_IN_FULL) -> list[str]:
    """The causes as terminal lines: the first ``full`` in detail, then one line each."""
    out: list[str] = []
    for number, cause in enumerate(causes, 1):
        areas = ", ".join(cause.areas())
        count = f"{len(cause.clauses)} clause{'s' if len(cause.clauses) != 1 else ''}"
        if number > full:
            out.append(f"{number}. {count} in {areas}: {_clip(cause.title, 160)} (cause {cause.slug})")
            continue
        rep = cause.representative
        out.append(f"{number}. {count} in {areas}")
        out.append(f"   cause: {_clip(cause.title)}")
        if cause.origin and cause.kind != "raised":
            out.append(f"   raised at {cause.origin}")
        out.append(f"   e.g. {rep.area}::{rep.name}")
        out.append(f"        {_clip(rep.first_line)}")
        if cause.fix:
            out.append(f"   fix: {_clip(cause.fix, 400)}")
        if rerun_prefix:
            out.append(f"   rerun: {cause.rerun(rerun_prefix)}")
    if len(causes) > full:
        out.append(f"(the last {len(causes) - full} in short: the report, --spec-report, has each in full)")
    return out


# --------------------------------------------------------------------------- where a failure was raised


def implementation_files(cls) -> frozenset[str]:
    """The files that define ``cls`` and its bases, Keras's and Python's own left out: the implementation's code."""
    import inspect

    files = set()
    for klass in getattr(cls, "__mro__", ()):
        if klass.__module__.split(".")[0] in ("builtins", "abc", "keras", "tf_keras", "tensorflow", "typing"):
            continue
        try:
            source = inspect.getsourcefile(klass)
        except (TypeError, OSError):
            continue
        if source:
            files.add(os.path.realpath(source))
    return frozenset(files)


def origin_of(exc: BaseException, files: frozenset[str], base: str = "") -> tuple[str, str]:
    """``(type, "path:line in func")`` of the innermost frame in ``files`` where the chain of ``exc`` passed.

    The first exception of the chain (outermost first) whose traceback runs through the implementation wins;
    ``path`` is relative to ``base`` when inside it. ``("", "")`` when the implementation raised nothing.
    """
    for link in exception_chain(exc):
        frames = [(frame.f_code, line) for frame, line in traceback.walk_tb(link.__traceback__)
                  if os.path.realpath(frame.f_code.co_filename) in files]
        if frames:
            code, line = frames[-1]
            path = os.path.realpath(code.co_filename)
            if base:
                relative = os.path.relpath(path, os.path.realpath(base))
                path = path if relative.startswith("..") else relative
            return type(link).__name__, f"{path}:{line} in {code.co_name}"
    return "", ""


__all__ = ["CHECK_TYPES", "RULE", "SHOWN_IN_FULL", "Cause", "cause_key", "describe", "failure_text", "group",
           "implementation_files", "lines", "normalise", "origin_of", "pitfall_name"]
