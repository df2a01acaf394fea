"""The peer of the benchmark: bench/wallclock.pledge's verdicts computed by DuckDB in SQL.

Usage: duckdb_verdicts.py EVENTS.jsonl

Prints one JSON object: {"clauses": {NAME: {"met": m, "breached": b, "pending": p}},
"events": n, "guard": g}. The rules are SEMANTICS.md's, for these five wall-clock clauses:

- the case's `kind` and `severity` are those of `opened` and later `updated` events, the
  latest value winning, as of `now`; a case without `opened` gets no verdict;
- the clock starts at the first start event and stops at the first stop event at or after it;
  met if stop <= due, breached if stop > due or (no stop and now > due), pending otherwise;
  `now` is the latest `at` of the file; due = start + the limit, in exact seconds;
- reopen cycles: each `reopened` event starts a new cycle. A clause from `opened` restarts at
  the reopen itself; the revisit clause (from `resolved`) at the first `resolved` after it.

SEMANTICS.md ignores a reopen that comes before the cycle's stop. This SQL does not: it cuts a
case's events at every reopen. The generator reopens a case only after its contact, fix and
revisit (src/gen/cases.rs), so with its streams the two readings agree; `guard` counts the
cycles where they would not (an unstopped cycle followed by another), and must be 0.
"""

import json
import sys

import duckdb

CLAUSES = [
    # name, kinds, severity, start ('opened' or 'resolved'), stop, limit in seconds
    ("complaint_contact_1h", ["complaint"], None, "opened", "contacted", 3600),
    ("repair_minor_8h", ["repair"], "minor", "opened", "resolved", 8 * 3600),
    ("repair_medium_3d", ["repair"], "medium", "opened", "resolved", 3 * 86400),
    ("emergency_ack_5m", ["emergency"], None, "opened", "acknowledged", 300),
    ("revisit_24h", ["complaint", "repair"], None, "resolved", "revisited", 86400),
]

SQL = """
CREATE TEMP TABLE ev AS
SELECT ticket, epoch("at")::BIGINT AS t, "type" AS type,
       attrs.kind AS kind, attrs.severity AS severity
FROM read_json(?, format = 'newline_delimited',
               columns = {ticket: 'VARCHAR', "at": 'TIMESTAMPTZ', "type": 'VARCHAR',
                          attrs: 'STRUCT(kind VARCHAR, severity VARCHAR)'});

CREATE TEMP TABLE clauses (name VARCHAR, kinds VARCHAR[], severity VARCHAR,
                           start_on VARCHAR, stop VARCHAR, lim BIGINT);
"""

QUERY = """
WITH
now AS (SELECT max(t) AS now, count(*) AS events FROM ev),
cases AS (
  SELECT ticket,
         arg_max(kind, t) FILTER (WHERE type IN ('opened', 'updated') AND kind IS NOT NULL)
           AS kind,
         arg_max(severity, t) FILTER (WHERE type IN ('opened', 'updated')
                                      AND severity IS NOT NULL) AS severity
  FROM ev
  GROUP BY ticket
  HAVING bool_or(type = 'opened')
),
seg AS (
  SELECT ticket, t, type,
         sum(CASE WHEN type = 'reopened' THEN 1 ELSE 0 END)
           OVER (PARTITION BY ticket ORDER BY t, type ROWS UNBOUNDED PRECEDING) AS cycle
  FROM ev
  WHERE type IN ('opened', 'reopened', 'contacted', 'resolved', 'acknowledged', 'revisited')
),
cycles AS (
  SELECT ticket, cycle,
         CASE WHEN cycle = 0 THEN min(t) FILTER (WHERE type = 'opened')
              ELSE min(t) FILTER (WHERE type = 'reopened') END AS opened_start,
         min(t) FILTER (WHERE type = 'resolved') AS resolved_start,
         max(cycle) OVER (PARTITION BY ticket) AS last_cycle
  FROM seg
  GROUP BY ticket, cycle
),
starts AS (
  SELECT cl.name, cl.stop, cl.lim, y.ticket, y.cycle, y.last_cycle,
         CASE cl.start_on WHEN 'opened' THEN y.opened_start ELSE y.resolved_start END AS start
  FROM cycles y
  JOIN cases c USING (ticket)
  JOIN clauses cl ON list_contains(cl.kinds, c.kind)
                 AND (cl.severity IS NULL OR cl.severity = c.severity)
),
stopped AS (
  SELECT s.name, s.ticket, s.cycle, s.last_cycle, s.start, s.lim, min(e.t) AS stop_at
  FROM starts s
  LEFT JOIN seg e ON e.ticket = s.ticket AND e.cycle = s.cycle AND e.type = s.stop
                 AND e.t >= s.start
  WHERE s.start IS NOT NULL
  GROUP BY ALL
)
SELECT name,
       count(*) FILTER (WHERE stop_at IS NOT NULL AND stop_at <= start + lim) AS met,
       count(*) FILTER (WHERE (stop_at IS NOT NULL AND stop_at > start + lim)
                           OR (stop_at IS NULL AND now > start + lim)) AS breached,
       count(*) FILTER (WHERE stop_at IS NULL AND now <= start + lim) AS pending,
       count(*) FILTER (WHERE stop_at IS NULL AND cycle < last_cycle) AS guard,
       any_value(events) AS events
FROM stopped, now
GROUP BY name
"""


def main() -> None:
    path = sys.argv[1]
    con = duckdb.connect()
    # Epoch seconds are absolute; the session zone only matters for parsing offsets away.
    con.execute("SET TimeZone = 'UTC'")
    for statement in SQL.split(";"):
        if statement.strip():
            params = [path] if "?" in statement else []
            con.execute(statement, params)
    con.executemany("INSERT INTO clauses VALUES (?, ?, ?, ?, ?, ?)", CLAUSES)
    rows = con.execute(QUERY).fetchall()
    events = con.execute("SELECT count(*) FROM ev").fetchone()[0]
    result = {"clauses": {}, "events": events, "guard": 0}
    for name, met, breached, pending, guard, _ in rows:
        result["clauses"][name] = {"met": met, "breached": breached, "pending": pending}
        result["guard"] += guard
    for name, *_ in CLAUSES:
        result["clauses"].setdefault(name, {"met": 0, "breached": 0, "pending": 0})
    json.dump(result, sys.stdout, sort_keys=True)
    print()


if __name__ == "__main__":
    main()
