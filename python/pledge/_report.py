"""The report of a check: its records, decoded into dicts as they are read, and its summary.

A check of a large file returns as soon as the engine is done (the records stay native values
until read); reading them all costs what building the dicts costs, in chunks decoded at once.
"""

import operator
from collections.abc import Mapping, Sequence


class Records(Sequence):
    """The records of a check, in ``pledge check``'s order, each the dict of
    ``pledge check --format json``. A sequence: ``len``, indexing, slicing and iteration decode
    only what they touch; ``==`` compares with any sequence of dicts; ``to_list()`` decodes all
    at once (``pandas.DataFrame(records)`` works as it is)."""

    __slots__ = ("_native",)
    _CHUNK = 4096

    def __init__(self, native):
        self._native = native

    def __len__(self):
        return len(self._native)

    def __getitem__(self, index):
        if isinstance(index, slice):
            start, stop, step = index.indices(len(self))
            if step == 1:
                return self._native.range(start, max(start, stop))
            return [self._native.get(i) for i in range(start, stop, step)]
        return self._native.get(operator.index(index))

    def __iter__(self):
        n = len(self)
        for start in range(0, n, self._CHUNK):
            yield from self._native.range(start, min(n, start + self._CHUNK))

    def __eq__(self, other):
        if isinstance(other, Sequence) and not isinstance(other, (str, bytes, bytearray)):
            return len(self) == len(other) and list(self) == list(other)
        return NotImplemented

    __hash__ = None

    def __add__(self, other):
        return list(self) + list(other)

    def __radd__(self, other):
        return list(other) + list(self)

    def __repr__(self):
        return f"<pledge.Records: {len(self)} records>"

    def to_list(self):
        """Every record as a dict, in one list."""
        return self._native.range(0, len(self))


class Report(Mapping):
    """A check's outcome: ``report["records"]`` (also ``report.records``), a :class:`Records`,
    and ``report["summary"]`` (``report.summary``), the dict of ``pledge check --format json``.
    A read-only mapping with those two keys; ``to_dict()`` is the plain document."""

    __slots__ = ("_records", "_summary")

    def __init__(self, records, summary):
        object.__setattr__(self, "_records", Records(records))
        object.__setattr__(self, "_summary", summary)

    @property
    def records(self):
        return self._records

    @property
    def summary(self):
        return self._summary

    def __setattr__(self, name, value):
        raise AttributeError(f"a Report is read-only: cannot set {name!r}")

    def __delattr__(self, name):
        raise AttributeError(f"a Report is read-only: cannot delete {name!r}")

    def __getitem__(self, key):
        if key == "records":
            return self.records
        if key == "summary":
            return self.summary
        raise KeyError(key)

    def __iter__(self):
        return iter(("records", "summary"))

    def __len__(self):
        return 2

    def __repr__(self):
        return f"<pledge.Report: {len(self.records)} records>"

    def to_dict(self):
        """``{"records": [...], "summary": {...}}``, as ``pledge check --format json`` prints."""
        return {"records": self.records.to_list(), "summary": self.summary}
