#!/usr/bin/env python3
"""Load test of `pledge serve`, on loopback only, bounded in count and time.

    bench/serve.py [--events 10000000] [--http-events 1000000] [--batch 5000] [--clients 4]
                   [--seed 1] [--policies 'policies/*.pledge'] [--timeout 1800]
                   [--js-minutes 0] [--only jetstream|http]
                   [--scrape SECONDS] [--scrape-path /metrics]

On the dense-quarter profile of bench/run (`pledge gen --profile dense --days 90`, 30 % of
tickets never closed, follow-ups after `closed`; the file is shared with bench/run in
bench/data/), it measures:

  JetStream  a backlog of --events events published to a stream of a local `nats-server -js`
             (started here, in a temporary directory, on a free loopback port), then read by
             `pledge serve --nats --stream --until-eof`: events per second from the start of
             the service to its exit (which includes writing the final report), peak RSS.
             With --js-minutes M the run is bounded: after M minutes the service is stopped
             (SIGTERM, which commits) and the rate is the events it had read by then.
             With --scrape S, `GET /metrics` (or --scrape-path, e.g. '/agenda?within=4h')
             every S seconds meanwhile, as a monitoring system would: how long each answer
             took (each judges a copy of the state as of now), and the rate and RSS with them.
  HTTP       the first --http-events events POSTed in bodies of --batch lines by --clients
             clients at once, each on its own connection and each body after the previous
             one's answer (a body is answered once committed: it waits for no timer, and
             bodies that arrive together share a commit; bodies of different clients may be
             applied out of order, which the reorder window absorbs within a minute of event
             time), to `pledge serve --post --webhook`: events
             per second, peak RSS, and the latency from an event's arrival to its alert at a
             webhook receiver on loopback (p50, p99, max). The event that makes an alert
             certain is the first whose time passes the alert's instant (`due` of a breach,
             `at` of a stage) by the reorder window; its arrival is the moment its body was
             sent.

Both services run with every shipped policy, `--now-from-events` (the stream's own time, so a
backlog replays as if live) and a one-minute reorder window. Prints a Markdown table, and the
machine's load average before and after (other work on the machine slows both).
Needs `nats-server` (Debian: apt-get install -y nats-server).
"""

import argparse
import bisect
import glob
import http.client
import http.server
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
# PLEDGE_BIN names a binary already built (then nothing is built), e.g. a copy of an earlier
# build to compare against.
PLEDGE = os.environ.get("PLEDGE_BIN") or os.path.join(ROOT, "target", "release", "pledge")
EVENTS_PER_CASE_DENSE = 12.9  # as in bench/run (events_per_case_dense): the two share the file


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def dense_stream(events, seed):
    data = os.path.join(HERE, "data", f"dense-{events}-seed{seed}-90d.jsonl")
    if not os.path.exists(data) or os.path.getsize(data) == 0:
        os.makedirs(os.path.dirname(data), exist_ok=True)
        cases = round(events / EVENTS_PER_CASE_DENSE)
        print(f"generating {data} ({cases} tickets)...", file=sys.stderr)
        subprocess.run([PLEDGE, "gen", "--cases", str(cases), "--seed", str(seed),
                        "--profile", "dense", "--days", "90", "--out", data + ".tmp",
                        "--quiet"], check=True)
        os.rename(data + ".tmp", data)
    return data


class PeakRss:
    """Samples a process's resident set every 50 ms (VmHWM is the peak the kernel saw)."""

    def __init__(self, pid):
        self.pid, self.peak_kb, self.stop, self.cpu_s = pid, 0, False, 0.0
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def sample(self):
        try:
            with open(f"/proc/{self.pid}/status") as f:
                for line in f:
                    if line.startswith("VmHWM:"):
                        self.peak_kb = max(self.peak_kb, int(line.split()[1]))
            # CPU seconds (user + system) so far: compares across loads where wall time drifts.
            with open(f"/proc/{self.pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            self.cpu_s = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        except (OSError, IndexError, ValueError):
            pass

    def run(self):
        while not self.stop:
            self.sample()
            time.sleep(0.05)

    def done(self):
        self.stop = True
        self.thread.join()
        return self.peak_kb / 1024


def start_service(args, state):
    proc = subprocess.Popen([PLEDGE, "serve", *args, "--state", state, "--listen",
                             "127.0.0.1:0"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                            text=True)
    first = proc.stdout.readline().strip()
    if not first.startswith("listening on http://"):
        proc.kill()
        raise SystemExit(f"pledge serve did not start: {first!r}")
    threading.Thread(target=proc.stdout.read, daemon=True).start()
    return proc, first.removeprefix("listening on http://")


def wait_exit(proc, timeout, what):
    try:
        return proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        raise SystemExit(f"{what}: still running after {timeout} s")


def metrics(addr, token=None):
    """The service's /metrics as {name: value} (labelled series summed), {} when it is gone."""
    host, port = addr.split(":")
    try:
        conn = http.client.HTTPConnection(host, int(port), timeout=30)
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        conn.request("GET", "/metrics", headers=headers)
        text = conn.getresponse().read().decode()
        conn.close()
    except OSError:
        return {}
    out = {}
    for line in text.splitlines():
        if line.startswith("#") or not line.strip():
            continue
        name, value = line.rsplit(" ", 1)
        name = name.split("{")[0]
        out[name] = out.get(name, 0.0) + float(value)
    return out


class Watch:
    """The last commit's figures (bytes, seconds) from /metrics, read once when `done` is
    called: /metrics answers from a copy of the state, so polling it would load the run."""

    def __init__(self, addr, token=None):
        self.addr, self.token = addr, token
        self.commit_bytes, self.commit_s, self.m = 0.0, 0.0, {}

    def done(self, m=None):
        self.m = m if m is not None else metrics(self.addr, self.token)
        self.commit_bytes = self.m.get("pledge_commit_bytes", 0.0)
        self.commit_s = self.m.get("pledge_commit_seconds", 0.0)
        print("last commit: " + ", ".join(
            f"{k.removeprefix('pledge_commit_')} {self.m.get(k, 0):,.3f}" for k in
            ["pledge_commit_bytes", "pledge_commit_rest_bytes", "pledge_commit_cases",
             "pledge_commit_lines", "pledge_commit_seconds"]) +
            f", open cases {self.m.get('pledge_open_cases', 0):,.0f}", file=sys.stderr)


class Scrapes:
    """GETs `path` (/metrics, /agenda) every `every` seconds while `proc` runs, as a monitoring
    system or a duty desk would, and keeps how long each answer took."""

    def __init__(self, proc, addr, path, every):
        self.proc, self.addr, self.path, self.every = proc, addr, path, every
        self.seconds = []
        self.thread = threading.Thread(target=self.run, daemon=True)
        if every:
            self.thread.start()

    def run(self):
        host, port = self.addr.split(":")
        while self.proc.poll() is None:
            started = time.monotonic()
            try:
                conn = http.client.HTTPConnection(host, int(port), timeout=60)
                conn.request("GET", self.path)
                answer = conn.getresponse()
                answer.read()
                conn.close()
                if answer.status == 200:
                    self.seconds.append(time.monotonic() - started)
            except OSError:
                pass
            time.sleep(self.every)

    def done(self):
        if self.every:
            self.thread.join()
        return sorted(self.seconds)


def jetstream(data, events, policies, timeout, work, minutes=0, scrape=0, scrape_path="/metrics"):
    port = free_port()
    url = f"nats://127.0.0.1:{port}"
    nats = subprocess.Popen(["nats-server", "-js", "-sd", os.path.join(work, "nats"), "-a",
                             "127.0.0.1", "-p", str(port)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        for _ in range(200):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.1).close()
                break
            except OSError:
                time.sleep(0.05)
        started = time.monotonic()
        subprocess.run([PLEDGE, "publish", data, "--nats", url, "--subject", "bench.events",
                        "--stream", "BENCH"], check=True, stderr=subprocess.DEVNULL,
                       timeout=timeout)
        publish_s = time.monotonic() - started
        state = os.path.join(work, "js-state")
        started = time.monotonic()
        proc, addr = start_service([*policies, "--nats", url, "--stream", "BENCH",
                                    "--until-eof", "--now-from-events", "--reorder-window",
                                    "1min", "--commit-lines", "20000", "--commit-ms", "1000"],
                                   state)
        rss = PeakRss(proc.pid)
        watch = Watch(addr)
        scrapes = Scrapes(proc, addr, scrape_path, scrape)
        if minutes:
            try:
                code = proc.wait(timeout=minutes * 60)
            except subprocess.TimeoutExpired:
                code = None
        else:
            code = wait_exit(proc, timeout, "pledge serve --stream")
        if code is None:
            # Bounded: what was applied by now is the rate. SIGTERM commits what was applied
            # and writes the report, whose line count says how much that was. (`/metrics`
            # answers from a copy of the state: at millions of events it takes too long, and
            # the memory of a second state, to ask it here.)
            wall = time.monotonic() - started
            cpu_s = rss.cpu_s
            proc.terminate()
            wait_exit(proc, timeout, "pledge serve --stream after SIGTERM")
            peak = rss.done()
            rss.cpu_s = cpu_s
            with open(os.path.join(state, "report.json")) as f:
                read = json.load(f)["summary"]["lines"]
            return {"publish_s": publish_s, "wall": wall, "rss": peak, "read": read,
                    "cpu_s": rss.cpu_s,
                    "bounded": True, "commit_bytes": watch.commit_bytes,
                    "commit_s": watch.commit_s, "scrapes": scrapes.done()}
        wall = time.monotonic() - started
        peak = rss.done()
        if code != 0:
            raise SystemExit(f"pledge serve --stream exited {code}")
        with open(os.path.join(state, "report.json")) as f:
            summary = json.load(f)["summary"]
        if summary["lines"] != events:
            raise SystemExit(f"the service read {summary['lines']} of {events} events")
        return {"publish_s": publish_s, "wall": wall, "rss": peak, "read": events,
                "cpu_s": rss.cpu_s,
                "bounded": False, "commit_bytes": watch.commit_bytes,
                "commit_s": watch.commit_s, "scrapes": scrapes.done()}
    finally:
        nats.kill()
        nats.wait()


class Hook(http.server.BaseHTTPRequestHandler):
    """A webhook receiver: keeps (arrival time, alert) per key, the first of each."""

    got = {}

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        now = time.monotonic()
        alert = json.loads(body)
        Hook.got.setdefault(alert["key"], (now, alert))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


def instant(text):
    from datetime import datetime
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def http_batches(data, count, batch, policies, timeout, work, clients=1):
    hook = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=hook.serve_forever, daemon=True).start()
    token = os.path.join(work, "token")
    with open(token, "w") as f:
        f.write("bench\n")
    state = os.path.join(work, "http-state")
    proc, addr = start_service([*policies, "--post", "--token-file", token, "--webhook",
                                f"http://127.0.0.1:{hook.server_address[1]}/",
                                "--now-from-events", "--reorder-window", "1min",
                                "--commit-lines", str(batch), "--max-body", str(64 << 20)],
                               state)
    rss = PeakRss(proc.pid)
    watch = Watch(addr, "bench")
    host, port = addr.split(":")
    # The bodies, cut beforehand (so that reading the file is not measured), in file order;
    # each client takes the next one when its previous one is answered.
    bodies = []
    with open(data, "rb") as f:
        lines, posted = [], 0
        for line in f:
            if posted >= count:
                break
            lines.append(line)
            posted += 1
            if len(lines) == batch:
                bodies.append(lines)
                lines = []
        if lines:
            bodies.append(lines)
    sent_at, max_at = [0.0] * len(bodies), []  # per body: when sent, latest event time so far
    for lines in bodies:
        latest = max((instant(json.loads(l)["at"]) for l in lines if l.strip()),
                     default=max_at[-1] if max_at else 0)
        max_at.append(max(latest, max_at[-1] if max_at else latest))
    payloads = [b"".join(lines) for lines in bodies]
    posted = sum(len(lines) for lines in bodies)
    del bodies
    next_body = iter(range(len(payloads)))
    lock = threading.Lock()
    deadline = time.monotonic() + timeout
    failures = []

    def client():
        conn = http.client.HTTPConnection(host, int(port), timeout=timeout)
        while time.monotonic() < deadline and not failures:
            with lock:
                i = next(next_body, None)
                if i is not None:
                    sent_at[i] = time.monotonic()
            if i is None:
                return
            conn.request("POST", "/events", body=payloads[i],
                         headers={"Authorization": "Bearer bench"})
            answer = conn.getresponse()
            body = answer.read()
            if answer.status != 200:
                failures.append(f"POST /events: {answer.status} {body[:200]!r}")

    started = time.monotonic()
    threads = [threading.Thread(target=client) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if failures:
        raise SystemExit(failures[0])
    conn = http.client.HTTPConnection(host, int(port), timeout=timeout)
    wall = time.monotonic() - started
    watch.done()
    # Alerts are delivered after their commit: wait (bounded) for the outbox to empty.
    until = time.monotonic() + 60
    while time.monotonic() < until:
        conn.request("GET", "/metrics", headers={"Authorization": "Bearer bench"})
        metrics = conn.getresponse().read().decode()
        pending = [l for l in metrics.splitlines() if l.startswith("pledge_alerts_pending")]
        if pending and all(float(l.split()[-1]) == 0 for l in pending):
            break
        time.sleep(0.2)
    peak = rss.done()
    proc.terminate()
    wait_exit(proc, 120, "pledge serve --post")
    hook.shutdown()
    latencies = []
    for arrived, alert in Hook.got.values():
        when = instant(alert.get("due") or alert.get("at"))
        # The first body whose latest event passes the alert's instant by the window.
        i = bisect.bisect_right(max_at, when + 60)
        if i < len(sent_at):
            latencies.append(arrived - sent_at[i])
    latencies.sort()

    def pct(p):
        return latencies[min(len(latencies) - 1, int(p * len(latencies)))] if latencies else 0

    return {"events": posted, "wall": wall, "rss": peak, "alerts": len(latencies),
            "cpu_s": rss.cpu_s,
            "commit_bytes": watch.commit_bytes, "commit_s": watch.commit_s,
            "p50": pct(0.5), "p99": pct(0.99), "max": latencies[-1] if latencies else 0}


def last_commit(run):
    """The last commit's MB and seconds, or a dash when they were not asked (a service that
    exits at the end of its stream is not asked: see `jetstream`)."""
    if not run["commit_bytes"]:
        return "—"
    return f"{run['commit_bytes'] / 1e6:,.1f}, {run['commit_s']:.1f}"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--events", type=int, default=10_000_000)
    ap.add_argument("--http-events", type=int, default=1_000_000)
    ap.add_argument("--batch", type=int, default=5000)
    ap.add_argument("--clients", type=int, default=4, help="HTTP clients posting at once")
    ap.add_argument("--js-minutes", type=float, default=0,
                    help="stop the JetStream run after this many minutes (0: read it all)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--policies", default="policies/*.pledge")
    ap.add_argument("--timeout", type=int, default=1800, help="seconds, per measurement")
    ap.add_argument("--only", choices=["jetstream", "http"], help="run one measurement")
    ap.add_argument("--scrape", type=float, default=0,
                    help="during the JetStream run, GET --scrape-path every this many seconds")
    ap.add_argument("--scrape-path", default="/metrics",
                    help="what --scrape asks for, e.g. /metrics or '/agenda?within=4h'")
    a = ap.parse_args()
    if not shutil.which("nats-server"):
        raise SystemExit("nats-server is needed (Debian: apt-get install -y nats-server)")
    os.chdir(ROOT)
    if not os.environ.get("PLEDGE_BIN"):
        subprocess.run(["cargo", "build", "--release", "--quiet", "--locked"], check=True)
    policies = sorted(glob.glob(a.policies))
    data = dense_stream(a.events, a.seed)
    with open(data, "rb") as f:
        events = sum(1 for _ in f)
    load_before = os.getloadavg()
    js = web = None
    with tempfile.TemporaryDirectory() as work:
        if a.only in (None, "jetstream"):
            js = jetstream(data, events, policies, a.timeout, work, a.js_minutes, a.scrape,
                           a.scrape_path)
        if a.only in (None, "http"):
            web = http_batches(data, a.http_events, a.batch, policies, a.timeout, work,
                               a.clients)
    load_after = os.getloadavg()
    print(f"pledge serve, dense quarter ({events:,} events), {len(policies)} policies, "
          f"{os.cpu_count()} cores, load average {load_before[0]:.1f} before and "
          f"{load_after[0]:.1f} after (1 min)\n")
    print("| source | events | wall s | events/s | service CPU s | events per CPU s "
          "| peak RSS MB | last commit MB, s | alert latency p50 / p99 / max |")
    print("|---|---|---|---|---|---|---|---|---|")
    if js:
        what = (f"JetStream backlog of {events:,}, stopped after {a.js_minutes:g} min"
                if js["bounded"] else "JetStream backlog")
        print(f"| {what} (published in {js['publish_s']:.1f} s) | {js['read']:,} | "
              f"{js['wall']:.1f} | {js['read'] / js['wall']:,.0f} | {js['cpu_s']:.1f} | "
              f"{js['read'] / max(js['cpu_s'], 0.01):,.0f} | {js['rss']:,.0f} | "
              f"{last_commit(js)} | |")
        if a.scrape:
            got = js["scrapes"]
            took = (f"answered in {got[len(got) // 2]:.2f} s (median), {got[-1]:.2f} s (max)"
                    if got else "none answered")
            print(f"\nDuring the JetStream run, `GET {a.scrape_path}` every {a.scrape:g} s: "
                  f"{len(got)} answers, {took}; the peak RSS above includes them.")
    if web:
        print(f"| HTTP, bodies of {a.batch} lines, {a.clients} clients | {web['events']:,} | "
              f"{web['wall']:.1f} | {web['events'] / web['wall']:,.0f} | {web['cpu_s']:.1f} | "
              f"{web['events'] / max(web['cpu_s'], 0.01):,.0f} | {web['rss']:,.0f} | "
              f"{last_commit(web)} | "
              f"{web['p50'] * 1000:,.0f} / {web['p99'] * 1000:,.0f} / "
              f"{web['max'] * 1000:,.0f} ms ({web['alerts']:,} alerts) |")


if __name__ == "__main__":
    main()
