"""The Python package against the command, on one stream:

    bench/python.py EVENTS.jsonl POLICY... [--repeat N]

- the command: `pledge check POLICY... --events EVENTS --format jsonl > /dev/null`;
- `pledge.check(policies, path)`: the same check in the process (its records are decoded into
  dicts as they are read, so this is the check itself);
- the same, then every record read as a dict (`report.records.to_list()`);
- `Engine.push(dict)`: the events pushed one by one (parsed with `json.loads` beforehand, not
  timed), in events per second.

Run it with the Python of an environment that has the package (`pip install ./python`) and with
the release build of the command on PATH or in PLEDGE_BIN. Prints the median of N runs.
"""

import json
import os
import statistics
import subprocess
import sys
import time

import pledge


def median_seconds(run, repeat):
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main():
    args = sys.argv[1:]
    repeat = 3
    if "--repeat" in args:
        i = args.index("--repeat")
        repeat = int(args[i + 1])
        del args[i : i + 2]
    events, policy_paths = args[0], args[1:]
    binary = os.environ.get("PLEDGE_BIN", "pledge")
    policies = [pledge.Policy.from_file(p) for p in policy_paths]

    def command():
        with open(os.devnull, "wb") as sink:
            done = subprocess.run(
                [binary, "check", *policy_paths, "--events", events, "--format", "jsonl"],
                stdout=sink,
                check=False,
            )
        assert done.returncode in (0, 1)

    def in_process():
        report = pledge.check(policies, events)
        assert report["summary"]["events"] > 0

    def in_process_as_dicts():
        report = pledge.check(policies, events)
        assert len(report["records"].to_list()) == len(report["records"])

    with open(events, encoding="utf-8") as f:
        dicts = [json.loads(line) for line in f if line.strip()]

    def pushed():
        engine = pledge.Engine(policies)
        push = engine.push
        for event in dicts:
            push(event)
        engine.finish()

    cli = median_seconds(command, repeat)
    py = median_seconds(in_process, repeat)
    dicts_too = median_seconds(in_process_as_dicts, repeat)
    push = median_seconds(pushed, repeat)
    print(f"events                      {len(dicts):>12,}")
    print(f"pledge check (command)      {cli:>10.2f} s")
    print(f"pledge.check(path)          {py:>10.2f} s   {py / cli:.2f}x the command")
    print(f"  ... and every record read {dicts_too:>10.2f} s   {dicts_too / cli:.2f}x the command")
    print(f"Engine.push(dict)           {push:>10.2f} s   {len(dicts) / push:,.0f} events/s")


if __name__ == "__main__":
    main()
