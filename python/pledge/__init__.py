"""pledge: service standards of property-management companies as code, checked against ticket
event streams.

>>> import pledge
>>> policy = pledge.Policy.from_text('''policy "desk" {
...   deadline contact { when kind == "complaint" until contacted within 1 hour }
... }''')
>>> report = pledge.check(policy, [
...     {"ticket": "T-1", "at": "2026-03-02T09:00:00+08:00", "type": "opened",
...      "attrs": {"kind": "complaint"}},
...     {"ticket": "T-1", "at": "2026-03-02T10:30:00+08:00", "type": "contacted"},
... ])
>>> [(r["ticket"], r["status"]) for r in report["records"]]
[('T-1', 'breached')]

A report is a read-only mapping with ``records`` and ``summary`` (``report.to_dict()`` is the
document of ``pledge check --format json``). Records are the dicts of that document, decoded as
they are read, so a check of a large file returns at the command's speed;
``pandas.DataFrame(report["records"])`` makes a table of them.
"""

from ._pledge import Diagnostic, Engine, Policy, PolicyError, check
from ._report import Records, Report

__all__ = ["Diagnostic", "Engine", "Policy", "PolicyError", "Records", "Report", "check"]
