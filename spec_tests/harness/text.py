"""Small text tools the harness needs in several places: clean exception text, and the exception chain.

Keras 3 wraps its messages in ANSI bold codes and re-raises errors inside
others (``Exception encountered when calling ...``); every part of the harness
that reads an error (hints, the report, the runner) reads it through here.
"""

from __future__ import annotations

import re
from typing import Iterator

_ANSI = re.compile(r"\x1b\[[0-9;]*m")
#: A ``hint: ...`` line, as clauses and :mod:`spec_tests.helpers` append them to a failure message.
HINT_LINE = re.compile(r"^\s*hint:\s*(.+?)\s*$", re.MULTILINE)


def strip_ansi(text: str | None) -> str:
    """``text`` without terminal colour codes (``''`` for None)."""
    return _ANSI.sub("", text or "")


def exception_text(exc: BaseException) -> str:
    """``str(exc)``, or a stand-in when that raises (a TensorFlow value of a finished graph in the exception's args)."""
    try:
        return str(exc)
    except Exception as err:  # noqa: BLE001 - an unprintable message must not crash the run that reports it
        return f"<the {type(exc).__name__}'s message cannot be printed: {type(err).__name__}>"


def exception_chain(exc: BaseException | None) -> Iterator[BaseException]:
    """``exc``, then the exceptions it was raised from (``__cause__``, else ``__context__``), each once."""
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        yield exc
        exc = exc.__cause__ or exc.__context__


def without_hint_lines(text: str) -> str:
    """``text`` with its ``hint:`` lines removed: they are advice, not the error."""
    return HINT_LINE.sub("", text)


def own_hint(exc: BaseException) -> str | None:
    """The ``hint:`` line a clause (or the implementation) already put in the exception's message."""
    for link in exception_chain(exc):
        found = HINT_LINE.search(strip_ansi(exception_text(link)))
        if found:
            return found.group(1)
    return None


__all__ = ["HINT_LINE", "exception_chain", "exception_text", "own_hint", "strip_ansi", "without_hint_lines"]
