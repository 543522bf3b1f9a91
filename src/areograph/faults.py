"""Fault injection for the reliability tests: die on purpose at an atomic write chosen by an env var.

Crash safety is only proven by crashing, at the worst moment, in a real process. Every output goes
through :mod:`areograph.atomic`, which calls :func:`at` just before and just after it renames a finished
temporary into place. ``AREOGRAPH_FAULT`` selects one such moment::

    AREOGRAPH_FAULT="<when>:<glob>[@<n>][=<action>]"

``when`` is ``before-rename`` (the temporary is complete, the output not yet there: a kill during the
write) or ``after-rename`` (the output is in place, nothing after it ran); ``glob`` is matched
(``fnmatch``) against the output's path; ``n`` picks the n-th matching write of the process (default
1); ``action`` is ``kill`` (SIGKILL, the default: no cleanup code runs) or ``raise`` (an
:class:`InjectedFault`). Unset, :func:`at` costs one environment lookup.
"""

from __future__ import annotations

import fnmatch
import os
import re
import signal
from pathlib import Path

ENV = "AREOGRAPH_FAULT"
WHEN = ("before-rename", "after-rename")
_SPEC = re.compile(r"^(?P<when>[a-z-]+):(?P<glob>[^@=]+)(?:@(?P<n>\d+))?(?:=(?P<action>kill|raise))?$")
_hits: dict[str, int] = {}


class InjectedFault(RuntimeError):
    """The failure ``AREOGRAPH_FAULT=...=raise`` asked for."""


def at(when: str, path: str | Path) -> None:
    """Fail here if ``AREOGRAPH_FAULT`` names this moment (``when``) and a glob matching ``path``."""
    spec = os.environ.get(ENV)
    if not spec:
        return
    match = _SPEC.match(spec.strip())
    if match is None or match["when"] not in WHEN:
        raise ValueError(f"{ENV}={spec!r}: expected '<{'|'.join(WHEN)}>:<glob>[@<n>][=kill|raise]'")
    if match["when"] != when or not fnmatch.fnmatch(str(path), match["glob"]):
        return
    _hits[spec] = _hits.get(spec, 0) + 1
    if _hits[spec] != int(match["n"] or 1):
        return
    if match["action"] == "raise":
        raise InjectedFault(f"{ENV}: injected failure {when} {path}")
    os.kill(os.getpid(), signal.SIGKILL)
