"""Type stubs of the pledge package (the native module ``pledge._pledge``)."""

import datetime
import os
from typing import Any, Iterable, List, Mapping, Optional, Sequence, Tuple, Union, overload

Event = dict[str, Any]
"""An event: ``ticket``, ``at`` (RFC 3339 text or an aware datetime), ``type``, and optionally
``id`` and ``attrs``, as in the event format."""

Record = dict[str, Any]
"""A record of ``pledge check --format jsonl``: ``record`` is ``verdict``, ``action``,
``finding``, ``sample``, ``target``, ``repeat``, ``rejected`` or ``unopened``."""

Instant = Union[datetime.datetime, str]
Span = Union[datetime.timedelta, float, int]
Policies = Union["Policy", Sequence["Policy"]]

class Records(Sequence[Record]):
    """The records of a check, decoded into dicts as they are read."""

    def __len__(self) -> int: ...
    @overload
    def __getitem__(self, index: int) -> Record: ...
    @overload
    def __getitem__(self, index: slice) -> List[Record]: ...
    def __add__(self, other: Sequence[Record]) -> List[Record]: ...
    def __radd__(self, other: Sequence[Record]) -> List[Record]: ...
    def to_list(self) -> List[Record]:
        """Every record as a dict, in one list."""

class Report(Mapping[str, Any]):
    """``report["records"]`` / ``report.records`` and ``report["summary"]`` / ``report.summary``."""

    records: Records
    summary: dict[str, Any]
    def __getitem__(self, key: str) -> Any: ...
    def to_dict(self) -> dict[str, Any]:
        """The document of ``pledge check --format json``."""

class Diagnostic:
    """One problem of a policy source."""

    code: str
    severity: str
    message: str
    help: Optional[str]
    file: str
    line: int
    column: int
    label: Optional[str]
    def __init__(
        self,
        code: str,
        severity: str,
        message: str,
        help: Optional[str],
        file: str,
        line: int,
        column: int,
        label: Optional[str],
    ) -> None: ...

class PolicyError(ValueError):
    """A policy that does not parse or check; ``str()`` is the rendered report."""

    diagnostics: List[Diagnostic]

class Policy:
    """A policy file: its clauses and calendars, parsed and checked."""

    @staticmethod
    def from_file(path: Union[str, os.PathLike[str]]) -> "Policy": ...
    @staticmethod
    def from_text(text: str, name: str = "<text>") -> "Policy": ...
    @property
    def name(self) -> str: ...
    @property
    def clauses(self) -> List[str]: ...

def check(
    policies: Policies,
    events: Union[str, os.PathLike[str], Iterable[Event]],
    *,
    now: Optional[Instant] = None,
    reorder_window: Optional[Span] = None,
    retain: Optional[Span] = None,
    tz: Optional[str] = None,
) -> Report:
    """Checks events (a JSON Lines or CSV file, or an iterable of event dicts) against
    policies, as ``pledge check --format json`` does."""

class Engine:
    """The streaming evaluator: each call returns the records that became final."""

    def __init__(
        self,
        policies: Policies,
        *,
        now: Optional[Instant] = None,
        reorder_window: Optional[Span] = None,
        retain: Optional[Span] = None,
        tz: Optional[str] = None,
        explain: bool = False,
    ) -> None: ...
    def push(self, event: Event) -> List[Record]: ...
    def extend(self, events: Iterable[Event]) -> List[Record]: ...
    def advance(self, now: Instant) -> Tuple[List[Record], List[Record]]:
        """Moves stream time to ``now``: ``(records that became final, alerts)``; an alert is
        a verdict (``alert == "breached"``) or action (``alert == "stage"``) of a clock that
        passed its due time or fired a stage while running (also one that stopped since)."""
    def finish(self) -> Report: ...
    def snapshot(self) -> bytes:
        """The engine's whole state, to persist and continue from with ``Engine.restore``."""
    @staticmethod
    def restore(policies: Policies, snapshot: bytes) -> "Engine":
        """An engine in the state of a snapshot; ValueError for other policies or bad bytes."""
    def fork(self) -> "Engine":
        """A copy made in memory (``restore(snapshot())``, far cheaper): finish it to judge
        as of now while this engine goes on."""
    def judge(self, ticket: str) -> List[Record]:
        """What finishing now would add about one ticket (``fork().finish()``'s records about
        it), at the cost of that ticket's case alone; the engine goes on."""
    def explain(self, ticket: str) -> Optional[str]:
        """What the REPL's ``:why TICKET all`` says about a kept ticket (with ``explain=True``)."""
    @property
    def open_cases(self) -> int: ...
