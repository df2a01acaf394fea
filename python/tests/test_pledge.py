"""The Python package against the command: same records, same summary, same rejections.

Run by ``cargo test`` (tests/python.rs), which builds the package into a virtual environment
and passes the command's path in ``PLEDGE_BIN``.
"""

import collections.abc
import datetime
import json
import os
import pathlib
import re
import subprocess
import threading

import pytest

import pledge

ROOT = pathlib.Path(__file__).resolve().parents[2]
SHIPPED = [ROOT / "policies/customer-requests.pledge", ROOT / "policies/repairs.pledge"]
BIN = os.environ.get("PLEDGE_BIN", "pledge")

DESK = """policy "desk" {
  deadline contact "投诉1小时内联系客户" {
    when kind == "complaint"
    until contacted
    within 1 hour
  }
}
"""


def cli_json(policies, events, *extra):
    out = subprocess.run(
        [BIN, "check", "--format", "json", *map(str, policies), "--events", str(events), *extra],
        capture_output=True,
        check=False,
    )
    assert out.returncode in (0, 1), out.stderr.decode()
    return json.loads(out.stdout)


def shipped():
    return [pledge.Policy.from_file(p) for p in SHIPPED]


def opened(ticket, at, **attrs):
    return {"ticket": ticket, "at": at, "type": "opened", "attrs": {"kind": "complaint", **attrs}}


def test_the_readme_example_works_as_written(tmp_path, monkeypatch):
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Use it from Python", 1)[1]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    monkeypatch.chdir(ROOT)
    namespace = {}
    exec(compile(code, "README.md", "exec"), namespace)  # noqa: S102 - our own README
    assert namespace["report"]["summary"]["record"] == "summary"


@pytest.mark.parametrize(
    "events, extra",
    [
        ("examples/service-desk.jsonl", []),
        ("examples/national-day.jsonl", ["examples/national-day.pledge"]),
    ],
)
def test_check_of_a_file_equals_the_command(events, extra):
    policies = shipped() + [pledge.Policy.from_file(ROOT / p) for p in extra]
    got = pledge.check(policies, str(ROOT / events))
    expected = cli_json(SHIPPED + [ROOT / p for p in extra], ROOT / events)
    assert got["records"], "the example has records"
    assert got == expected


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    path = tmp_path_factory.mktemp("gen") / "year.jsonl"
    subprocess.run(
        [BIN, "gen", "--cases", "1500", "--seed", "7", "--days", "60", "--out", str(path)],
        check=True,
    )
    return path


def without_text(records):
    """Rejected records name the raw line; from dicts there is no raw line to name."""
    return [{k: v for k, v in r.items() if k != "text"} for r in records]


def test_a_generated_stream_as_a_path_and_as_dicts_equals_the_command(generated):
    policies = [pledge.Policy.from_file(p) for p in sorted((ROOT / "policies").glob("*.pledge"))]
    expected = cli_json(sorted((ROOT / "policies").glob("*.pledge")), generated)
    assert pledge.check(policies, generated) == expected
    lines = generated.read_text(encoding="utf-8").splitlines()
    events = [json.loads(line) for line in lines]
    got = pledge.check(policies, iter(events))
    assert without_text(got["records"]) == without_text(expected["records"])
    assert got["summary"] == expected["summary"]
    assert expected["summary"]["breached"] > 0


def json_lines(path):
    """The lines of a file that are JSON (the example has a line pasted by mistake)."""
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            out.append(json.loads(line))
        except json.JSONDecodeError:
            pass
    return out


def test_pushing_one_by_one_equals_the_batch():
    events = json_lines(ROOT / "examples/service-desk.jsonl")
    batch = pledge.check(shipped(), events)
    engine = pledge.Engine(shipped())
    records = []
    for event in events:
        records.extend(engine.push(event))
    last = engine.finish()
    assert records + last["records"] == batch["records"]
    assert last["summary"] == batch["summary"]


def test_advance_settles_a_closed_case_after_its_retention():
    engine = pledge.Engine(
        pledge.Policy.from_text(DESK),
        reorder_window=datetime.timedelta(hours=1),
        retain=datetime.timedelta(days=2),
    )
    tz = datetime.timezone(datetime.timedelta(hours=8))
    at = datetime.datetime(2026, 3, 2, 9, 0, tzinfo=tz)
    assert engine.push(opened("A", at)) == []
    assert engine.push({"ticket": "A", "at": at + datetime.timedelta(minutes=90), "type": "contacted"}) == []
    assert engine.push({"ticket": "A", "at": at + datetime.timedelta(hours=2), "type": "closed"}) == []
    assert engine.open_cases == 1
    # The first call tells the breach of the clock that stopped late (contacted after 90
    # minutes); the case is kept until its retention ends.
    records, [alert] = engine.advance("2026-03-04T10:59:00+08:00")
    assert records == []
    got = (alert["alert"], alert["ticket"], alert["stop"], alert["overdue_seconds"])
    assert got == ("breached", "A", "2026-03-02T10:30:00+08:00", 1800)
    [verdict], alerts = engine.advance(at + datetime.timedelta(days=2, hours=3, minutes=1))
    assert alerts == []
    assert (verdict["ticket"], verdict["status"], verdict["overdue_seconds"]) == ("A", "breached", 1800)
    assert engine.open_cases == 0


def test_advance_alerts_a_running_clock_once_when_it_breaches():
    engine = pledge.Engine(pledge.Policy.from_text(DESK), reorder_window=datetime.timedelta(minutes=1))
    tz = datetime.timezone(datetime.timedelta(hours=8))
    at = datetime.datetime(2026, 3, 2, 9, 0, tzinfo=tz)
    assert engine.push(opened("B", at)) == []
    # Due at 10:00; told once every event before it is in (a minute later).
    assert engine.advance(at + datetime.timedelta(minutes=61)) == ([], [])
    records, [alert] = engine.advance(at + datetime.timedelta(minutes=62))
    assert records == []
    got = (alert["alert"], alert["record"], alert["ticket"], alert["status"], alert["due"])
    assert got == ("breached", "verdict", "B", "breached", "2026-03-02T10:00:00+08:00")
    assert engine.advance(at + datetime.timedelta(hours=5)) == ([], [])


def test_a_policy_error_carries_its_diagnostics():
    with pytest.raises(pledge.PolicyError) as caught:
        pledge.Policy.from_text('policy "p" {\n  deadline a { until b within 3 parsecs }\n}\n', "bad.pledge")
    err = caught.value
    assert isinstance(err, ValueError)
    [d] = err.diagnostics
    assert (d.file, d.line, d.severity) == ("bad.pledge", 2, "error")
    assert d.code.startswith("pledge::")
    assert d.code in str(err)
    assert "parsecs" in str(err)


def test_a_missing_policy_file_is_a_policy_error():
    with pytest.raises(pledge.PolicyError) as caught:
        pledge.Policy.from_file(ROOT / "policies/none.pledge")
    assert [d.code for d in caught.value.diagnostics] == ["pledge::io::unreadable"]


def test_policy_names_and_clauses():
    p = pledge.Policy.from_text(DESK)
    assert (p.name, p.clauses) == ("desk", ["contact"])


def test_wrong_types_raise_naming_what_is_wrong():
    policy = pledge.Policy.from_text(DESK)
    with pytest.raises(TypeError, match="`events` must be a path or an iterable"):
        pledge.check(policy, 42)
    with pytest.raises(TypeError, match="`policies`"):
        pledge.check(42, [])
    with pytest.raises(TypeError, match="not a Policy"):
        pledge.check([policy, "desk.pledge"], [])
    engine = pledge.Engine(policy)
    with pytest.raises(TypeError, match="an event is a dict"):
        engine.push(["T-1"])
    with pytest.raises(TypeError, match="`attrs.tags` is of type set"):
        engine.push(opened("T-1", "2026-03-02T09:00:00+08:00", tags={"a"}))
    with pytest.raises(ValueError, match="`now`"):
        pledge.Engine(policy, now=datetime.datetime(2026, 3, 2, 9, 0))
    with pytest.raises(ValueError, match="`tz`"):
        pledge.Engine(policy, tz="Mars/Olympus")
    with pytest.raises(TypeError, match="`retain`"):
        pledge.Engine(policy, retain="30 days")
    # None of these hurt the engine.
    assert engine.push(opened("T-1", "2026-03-02T09:00:00+08:00")) == []
    assert [r["status"] for r in engine.finish()["records"]] == ["pending"]
    with pytest.raises(RuntimeError, match="finished"):
        engine.push(opened("T-2", "2026-03-02T09:00:00+08:00"))


def test_an_event_the_command_would_reject_is_a_rejected_record():
    engine = pledge.Engine(pledge.Policy.from_text(DESK))
    [r] = engine.push({"ticket": "T-1", "at": 42, "type": "opened"})
    assert (r["record"], r["line"]) == ("rejected", 1)
    assert "`at`" in r["reason"]
    [r] = engine.push({"at": "2026-03-02T09:00:00+08:00", "type": "opened"})
    assert "`ticket`" in r["reason"]
    # A naive datetime has no offset: rejected, unless a zone is given.
    naive = datetime.datetime(2026, 3, 2, 9, 0)
    [r] = engine.push(opened("T-2", naive))
    assert "offset" in r["reason"] or "zone" in r["reason"], r["reason"]
    zoned = pledge.Engine(pledge.Policy.from_text(DESK), tz="Asia/Shanghai")
    assert zoned.push(opened("T-2", naive)) == []
    assert engine.finish()["summary"]["rejected"] == 3


def test_an_exception_of_the_callers_iterator_propagates_and_the_engine_goes_on():
    class Broken(Exception):
        pass

    def events():
        yield opened("T-1", "2026-03-02T09:00:00+08:00")
        raise Broken("the export failed")

    engine = pledge.Engine(pledge.Policy.from_text(DESK))
    with pytest.raises(Broken, match="the export failed"):
        engine.extend(events())
    assert engine.open_cases == 1
    engine.push({"ticket": "T-1", "at": "2026-03-02T09:30:00+08:00", "type": "contacted"})
    assert [r["status"] for r in engine.finish()["records"]] == ["met"]
    with pytest.raises(Broken):
        pledge.check(pledge.Policy.from_text(DESK), events())


def test_records_made_before_an_exception_come_with_the_next_call():
    def events():
        yield opened("T-1", "2026-03-02T09:00:00+08:00")
        yield {"ticket": "T-1", "at": "2026-03-02T09:30:00+08:00", "type": "contacted"}
        yield {"ticket": "T-2", "at": "not a time", "type": "opened"}
        yield {"ticket": "T-3", "at": "2026-03-02T09:40:00+08:00", "type": "opened", "x": {1}}

    engine = pledge.Engine(pledge.Policy.from_text(DESK))
    with pytest.raises(TypeError, match="x"):
        engine.extend(events())
    # The rejection of T-2's line became final before the set raised: nothing returned it,
    # so the next call does, first.
    pushed = engine.push(opened("T-4", "2026-03-02T10:00:00+08:00"))
    assert [(r["record"], r["line"]) for r in pushed] == [("rejected", 3)]
    assert engine.push(opened("T-5", "2026-03-02T10:00:00+08:00")) == []
    with pytest.raises(TypeError):
        engine.extend([{"ticket": "T-6", "at": "bad", "type": "opened"}, 7])
    report = engine.finish()
    records = list(report["records"])
    assert records[0]["record"] == "rejected"
    assert report["summary"]["rejected"] == 2
    assert [r["status"] for r in records if r["record"] == "verdict" and r["ticket"] == "T-1"] == [
        "met"
    ]


def test_event_values_nested_without_end_are_refused_not_a_crash():
    engine = pledge.Engine(pledge.Policy.from_text(DESK))
    looped = {"a": 1}
    looped["self"] = looped
    deep = {}
    inner = deep
    for _ in range(100_000):
        inner["d"] = {}
        inner = inner["d"]
    for attrs in (looped, deep):
        event = opened("T-1", "2026-03-02T09:00:00+08:00")
        event["attrs"]["extra"] = attrs
        with pytest.raises(ValueError, match="nested more than 32 levels"):
            engine.push(event)
        with pytest.raises(ValueError, match="nested more than 32 levels"):
            pledge.check(pledge.Policy.from_text(DESK), [event])
    assert engine.finish()["summary"]["events"] == 0


def test_two_policies_of_one_name_are_refused():
    desk = pledge.Policy.from_text(DESK, "desk.pledge")
    again = pledge.Policy.from_text(DESK, "copy.pledge")
    for attempt in (lambda: pledge.check([desk, again], []), lambda: pledge.Engine([desk, desk])):
        with pytest.raises(pledge.PolicyError) as err:
            attempt()
        assert [d.code for d in err.value.diagnostics] == ["pledge::policy::duplicate_name"]
    assert "desk.pledge" in str(pytest.raises(pledge.PolicyError, pledge.Engine, [desk, again]).value)


def test_a_report_is_read_only_and_errors_name_what_they_are_about(tmp_path):
    report = pledge.check(pledge.Policy.from_text(DESK), [])
    with pytest.raises(AttributeError, match="read-only"):
        report.records = []
    with pytest.raises(AttributeError, match="read-only"):
        report.summary = {}
    assert report.to_dict()["records"] == []
    with pytest.raises(FileNotFoundError) as err:
        pledge.check(pledge.Policy.from_text(DESK), tmp_path / "missing.jsonl")
    assert err.value.filename == str(tmp_path / "missing.jsonl")
    engine = pledge.Engine(pledge.Policy.from_text(DESK))
    event = opened("T-1", "2026-03-02T09:00:00+08:00")
    event["attrs"]["n"] = 10**400
    with pytest.raises(ValueError, match="`attrs.n` is an int too large"):
        engine.push(event)
    with pytest.raises(TypeError, match="an event has a key of type int"):
        engine.push({1: "x", "ticket": "T-2"})


def test_a_policy_error_crosses_processes():
    import pickle

    with pytest.raises(pledge.PolicyError) as err:
        pledge.Policy.from_text('policy "p" {\n  bogus\n}\n', "bad.pledge")
    back = pickle.loads(pickle.dumps(err.value))
    assert type(back) is pledge.PolicyError
    assert str(back) == str(err.value)
    assert [(d.code, d.file, d.line, d.column) for d in back.diagnostics] == [
        (d.code, d.file, d.line, d.column) for d in err.value.diagnostics
    ]
    assert pledge.PolicyError.__module__ == "pledge"


def test_a_file_check_releases_the_gil(generated):
    policies = shipped()
    ticks = []
    done = threading.Event()

    def count():
        while not done.is_set():
            ticks.append(1)
            done.wait(0.001)

    counter = threading.Thread(target=count)
    counter.start()
    try:
        pledge.check(policies, generated)
    finally:
        done.set()
        counter.join()
    assert len(ticks) > 3


def test_records_make_a_dataframe_when_pandas_is_there():
    pandas = pytest.importorskip("pandas")
    report = pledge.check(shipped(), str(ROOT / "examples/service-desk.jsonl"))
    verdicts = pandas.DataFrame([r for r in report["records"] if r["record"] == "verdict"])
    assert set(verdicts["status"]) <= {"met", "breached", "pending"}
    # Deadline clauses count their cycles; duties and windows count their checks instead.
    deadlines = [c for c in report["summary"]["clauses"] if c["kind"] == "deadline"]
    assert len(verdicts) == sum(c["verdicts"] for c in deadlines)


def test_snapshot_and_restore_mid_stream_give_the_records_of_an_uninterrupted_run(generated):
    policies = [pledge.Policy.from_file(p) for p in sorted((ROOT / "policies").glob("*.pledge"))]
    events = json_lines(generated)
    engine = pledge.Engine(policies)
    whole = engine.extend(events)
    whole += engine.finish()["records"]
    for cut in (1, len(events) // 3, len(events) - 1):
        engine = pledge.Engine(policies)
        records = engine.extend(events[:cut])
        saved = engine.snapshot()
        del engine
        engine = pledge.Engine.restore(policies, saved)
        records += engine.extend(events[cut:])
        records += engine.finish()["records"]
        assert records == whole, cut
    with pytest.raises(ValueError, match="other policies"):
        pledge.Engine.restore(pledge.Policy.from_text(DESK), saved)
    with pytest.raises(ValueError, match="not a snapshot"):
        pledge.Engine.restore(policies, b"garbage")


def test_a_fork_judges_as_of_now_and_leaves_the_engine_going_on(generated):
    policies = [pledge.Policy.from_file(p) for p in sorted((ROOT / "policies").glob("*.pledge"))]
    events = json_lines(generated)
    engine = pledge.Engine(policies)
    whole = engine.extend(events)
    whole += engine.finish()["records"]
    engine = pledge.Engine(policies)
    records = engine.extend(events[: len(events) // 2])
    now = engine.fork().finish()
    restored = pledge.Engine.restore(policies, engine.snapshot()).finish()
    assert now["records"] == restored["records"]
    assert now["summary"] == restored["summary"]
    assert now["records"]
    records += engine.extend(events[len(events) // 2 :])
    records += engine.finish()["records"]
    assert records == whole
    with pytest.raises(RuntimeError, match="finished"):
        engine.fork()


def test_judging_one_ticket_gives_what_a_whole_fork_says_of_it(generated):
    policies = [pledge.Policy.from_file(p) for p in sorted((ROOT / "policies").glob("*.pledge"))]
    events = json_lines(generated)
    engine = pledge.Engine(policies)
    engine.extend(events[: len(events) // 2])
    now = engine.fork().finish()["records"]
    tickets = sorted({e["ticket"] for e in events[: len(events) // 2]})
    judged = 0
    for ticket in tickets[:: max(1, len(tickets) // 40)]:
        about = [r for r in now if r.get("ticket") == ticket]
        assert engine.judge(ticket) == about, ticket
        judged += bool(about)
    assert judged > 5
    assert engine.judge("no such ticket") == []
    # The engine goes on: judging changed nothing.
    rest = engine.extend(events[len(events) // 2 :]) + engine.finish()["records"]
    plain = pledge.Engine(policies)
    plain.extend(events[: len(events) // 2])
    assert rest == plain.extend(events[len(events) // 2 :]) + plain.finish()["records"]
    with pytest.raises(RuntimeError, match="finished"):
        engine.judge(tickets[0])


def test_an_explaining_engine_says_why():
    engine = pledge.Engine(pledge.Policy.from_text(DESK), explain=True)
    engine.push(opened("T-1", "2026-03-02T09:00:00+08:00"))
    engine.push({"ticket": "T-1", "at": "2026-03-02T10:30:00+08:00", "type": "contacted"})
    why = engine.explain("T-1")
    assert why.startswith("case T-1 as of Mon 2026-03-02 10:30")
    assert "verdict: breached, 30 min late" in why
    assert engine.explain("T-2") is None
    assert pledge.Engine(pledge.Policy.from_text(DESK)).explain("T-1") is None


def test_records_are_a_sequence_decoded_as_read(monkeypatch):
    monkeypatch.setattr(pledge.Records, "_CHUNK", 4)  # iteration in several chunks
    report = pledge.check(shipped(), str(ROOT / "examples/service-desk.jsonl"))
    expected = cli_json(SHIPPED, ROOT / "examples/service-desk.jsonl")
    records = report["records"]
    assert report.records is records and report.summary is report["summary"]
    assert isinstance(report, collections.abc.Mapping) and set(report) == {"records", "summary"}
    assert isinstance(records, collections.abc.Sequence)
    n = len(expected["records"])
    assert len(records) == n > 10
    assert records[0] == expected["records"][0]
    assert records[-1] == expected["records"][-1]
    assert records[3:7] == expected["records"][3:7]
    assert records[::5] == expected["records"][::5]
    assert records[n - 2 : n + 5] == expected["records"][n - 2 :]
    assert list(records) == expected["records"] == records.to_list()
    assert records == expected["records"] and records != expected["records"][:-1]
    assert report.to_dict() == expected
    assert json.loads(json.dumps(report.to_dict())) == expected
    assert repr(records) == f"<pledge.Records: {n} records>"
    with pytest.raises(IndexError):
        records[n]
    with pytest.raises(IndexError):
        records[-n - 1]
    with pytest.raises(KeyError):
        report["verdicts"]
