#!/usr/bin/env python3
"""`make bench-check`: instructions per request under valgrind's callgrind, against a baseline.

Wall-clock numbers on a shared 2-core machine are noisy; instruction counts are not. This runs
the release gateway under `valgrind --tool=callgrind` (instruction counts only, no cache or
branch simulation) in front of switchyard-mock, and measures each scenario as its own phase:
counters are zeroed after a warm-up, a fixed number of requests is sent one after another on
one keep-alive connection, then `callgrind_control --dump` writes that phase's totals.

  startup  process start → listening, plus one GET /healthz (per process)
  small    scenario 1: ~1 KB chat completion (per request)
  large    scenario 2: ~100 KB coding-agent turn (per request)
  stream   scenario 3: 100 chunks, 10 ms apart (per stream)
  connection  a small request on a new connection, closed after the answer (per connection):
           the difference to `small` is what accepting and closing a connection costs
  small-unmetered  scenario 1 on `switchyard-unmetered`, the same gateway without its limit and
           accounting stages: the difference to `small` is what those two stages cost
  small-floor-curl  scenario 1 through `switchyard-relay-floor`: NIO's server and the gateway's
           libcurl client relaying the body, nothing else — the stack's own cost per request
  small-floor-nio   the same relay with a NIO HTTP client instead of libcurl
  small-nio-upstream  scenario 1 on `switchyard-nio-upstream`: the whole gateway over that NIO
           client instead of libcurl

Fails (exit 1) when any phase costs more than the baseline (bench/callgrind-baseline.json) by
more than the tolerance (10%); `--update` (make bench-check UPDATE=1) rewrites the baseline.
`--profile` prints where each phase's instructions go (bench/cgprofile.py).
"""
from __future__ import annotations

import argparse
import glob
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import cgprofile  # noqa: E402
import lib  # noqa: E402
from lib import HOST, log  # noqa: E402

BASELINE = lib.BENCH / "callgrind-baseline.json"
TOLERANCE = 0.10
COUNTS = {"small": 200, "large": 50, "stream": 20, "connection": 100}
WARMUP = {"small": 20, "large": 5, "stream": 2}


def totals(path: Path) -> int:
    summary = None
    for line in path.read_text(errors="replace").splitlines():
        if line.startswith("totals:"):
            return int(line.split()[1])
        if line.startswith("summary:"):
            summary = int(line.split()[1])
    if summary is None:
        raise RuntimeError(f"no totals in {path}")
    return summary


class Gateway:
    def __init__(self, out: Path, data: Path, mock_port: int, services: lib.Services, binary: str = "switchyard",
                 arguments: list[str] | None = None, name: str | None = None):
        self.out = out
        self.port = lib.free_port()
        name = name or binary
        self.base = out / f"callgrind-{name}.out"
        command = [str(lib.BIN / binary)] + (["serve"] if binary == "switchyard" else [])
        arguments = ["--data", str(data)] if arguments is None else arguments
        env = {"SWITCHYARD_MOCK_BASE_URL": f"http://{HOST}:{mock_port}/v1",
               # Same hash seeds every run, so dictionary work costs the same every run.
               "SWIFT_DETERMINISTIC_HASHING": "1"}
        self.proc = services.spawn(f"{name}-callgrind", [
            "valgrind", "--tool=callgrind", f"--callgrind-out-file={self.base}",
            "--dump-instr=no", "--dump-line=no", "--compress-strings=no",
            *command, "--listen", f"{HOST}:{self.port}", *arguments], env=env, stdout=subprocess.PIPE)
        deadline = time.monotonic() + 120
        while True:
            line = self.proc.stdout.readline().decode()
            if "listening on" in line:
                break
            if not line and self.proc.poll() is not None:
                raise RuntimeError(f"the gateway under valgrind exited ({self.proc.returncode}); see {out}/gateway-callgrind.log")
            if time.monotonic() > deadline:
                raise RuntimeError("the gateway under valgrind did not start within 120 s")
        if binary.startswith("switchyard-relay-floor"):
            return  # relays every request: there is no health route
        if lib.http_get_status(self.port, "/healthz", timeout=30) != 200:
            raise RuntimeError("the gateway under valgrind did not answer /healthz")

    def control(self, *args: str) -> None:
        # Always by pid: without one, callgrind_control acts on every callgrind run on the machine.
        subprocess.run(["callgrind_control", *args, str(self.proc.pid)], check=True, capture_output=True, timeout=120)

    def dump(self, name: str) -> Path:
        before = set(glob.glob(f"{self.base}.*"))
        self.control(f"--dump={name}")
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            new = sorted(set(glob.glob(f"{self.base}.*")) - before)
            if new:
                path = Path(new[-1])
                # The file is complete once its totals line is written.
                time.sleep(0.2)
                try:
                    totals(path)
                    return path
                except RuntimeError:
                    pass
            time.sleep(0.1)
        raise RuntimeError(f"callgrind did not write the '{name}' dump")


def send(port: int, key: str, body: bytes, count: int, stream: bool = False, fresh: bool = False) -> None:
    if fresh:  # a new connection per request, closed by the client after the answer
        for _ in range(count):
            send(port, key, body, 1, stream)
        return
    c = lib.HTTPConnection(port, timeout=120)
    hdrs = {"Content-Type": "application/json", "Authorization": f"Bearer {key}"}
    try:
        for _ in range(count):
            status, _, resp = c.request("POST", "/v1/chat/completions", body, hdrs)
            if status != 200:
                raise RuntimeError(f"gateway answered {status}: {resp[:300]!r}")
            if stream and b"data: [DONE]" not in resp:
                raise RuntimeError("a stream ended without [DONE]")
    finally:
        c.close()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--update", action="store_true", default=os.environ.get("UPDATE") == "1")
    ap.add_argument("--profile", action="store_true", default=os.environ.get("PROFILE") == "1")
    opts = ap.parse_args()
    if not shutil.which("valgrind") or not shutil.which("callgrind_control"):
        sys.exit("valgrind is not installed (apt-get install valgrind)")
    started = time.monotonic()
    run = lib.WORK / "check"
    shutil.rmtree(run, ignore_errors=True)
    run.mkdir(parents=True)
    lib.stage_binaries(run, strip_debug=True)
    lib.raise_fd_limit()
    bodies = {"small": lib.small_body(), "large": lib.large_body(), "stream": lib.stream_body(100, 10)}
    services = lib.Services(run)
    results: dict[str, dict] = {}
    try:
        _, mock_port = lib.start_mock(services)
        data = run / "data"
        key = lib.create_key(data)
        log("starting the gateway under callgrind")
        gw = Gateway(run, data, mock_port, services)
        startup = gw.dump("startup")
        results["startup"] = {"instructions": totals(startup), "count": 1, "dump": startup}
        log(f"  startup: {results['startup']['instructions']:,} instructions")
        log("warming up")
        for phase in ("small", "large", "stream"):
            send(gw.port, key, bodies[phase], WARMUP[phase], stream=phase == "stream")
        gw.control("--zero")
        for phase in ("small", "large", "stream"):
            n = COUNTS[phase]
            t0 = time.monotonic()
            send(gw.port, key, bodies[phase], n, stream=phase == "stream")
            dump = gw.dump(phase)
            ir = totals(dump)
            results[phase] = {"instructions": ir, "count": n, "dump": dump}
            log(f"  {phase:<6} {n:>4} × → {ir / n:>12,.0f} instructions each ({time.monotonic() - t0:.1f} s)")
        n = COUNTS["connection"]
        send(gw.port, key, bodies["small"], n, fresh=True)
        dump = gw.dump("connection")
        results["connection"] = {"instructions": totals(dump), "count": n, "dump": dump}
        log(f"  connection {n:>4} × → {results['connection']['instructions'] / n:>12,.0f} instructions each "
            "(a small request on a new connection)")
        time.sleep(2)
        idle = gw.dump("idle")
        log(f"  idle: {totals(idle):,} instructions in 2 s (not counted in any phase above)")
        services.stop(gw.proc, grace=30)

        # Small requests through the builds that show where the cost sits, one after another.
        floor_upstream = ["--upstream", f"http://{HOST}:{mock_port}/v1/chat/completions"]
        for phase, binary, arguments, what in (
            ("small-unmetered", "switchyard-unmetered", None, "no limit or accounting stages"),
            ("small-nio-upstream", "switchyard-nio-upstream", None, "the gateway over a NIO client"),
            ("small-floor-curl", "switchyard-relay-floor", floor_upstream + ["--client", "curl"], "the stack alone"),
            ("small-floor-nio", "switchyard-relay-floor", floor_upstream + ["--client", "nio"], "the stack alone, NIO client"),
        ):
            log(f"starting {binary} ({what}) under callgrind")
            other = Gateway(run, data, mock_port, services, binary=binary, name=phase, arguments=arguments)
            send(other.port, key, bodies["small"], WARMUP["small"])
            other.control("--zero")
            send(other.port, key, bodies["small"], COUNTS["small"])
            dump = other.dump(phase)
            results[phase] = {"instructions": totals(dump), "count": COUNTS["small"], "dump": dump}
            log(f"  {phase} {COUNTS['small']} × → {results[phase]['instructions'] / COUNTS['small']:>12,.0f} instructions each")
            services.stop(other.proc, grace=30)
    finally:
        services.stop_all()

    phases = ("startup", "small", "large", "stream", "connection", "small-unmetered", "small-floor-curl", "small-floor-nio",
              "small-nio-upstream")
    current = {p: round(results[p]["instructions"] / results[p]["count"]) for p in phases}
    if opts.profile:
        per = {"small": COUNTS["small"], "large": COUNTS["large"], "stream": COUNTS["stream"]}
        for p in ("small", "large", "stream"):
            print(f"\n== phase '{p}': {results[p]['count']} {'streams' if p == 'stream' else 'requests'}, "
                  f"costs per {'stream' if p == 'stream' else 'request'} ==")
            print(cgprofile.report(results[p]["dump"], per[p], top=30))
            print()
            print(cgprofile.inclusive_report(results[p]["dump"], per[p], top=40,
                                             match=r"Gateway|JSON|Scanner|Authenticate|KeyStore|SHA256|Translate|Upstream|"
                                                   r"Resolve|Dispatch|Exchange|SSE|Rewriter|curl_multi_perform|flushNow|"
                                                   r"HTTPResponseEncoder.write|HeadersValidator.write|llhttp_execute"))
        print(f"\ndumps: {run}/callgrind-*.out.*  (python3 bench/cgprofile.py DUMP REQUESTS [TOP [REGEX]])")

    units = {"startup": "per process", "small": "per request", "large": "per request", "stream": "per stream",
             "connection": "per connection (one small request on it)", "small-unmetered": "per request",
             "small-floor-curl": "per request (NIO + libcurl relay, no gateway work)",
             "small-floor-nio": "per request (NIO server + NIO client relay)",
             "small-nio-upstream": "per request (the gateway over a NIO client)"}
    metering = current["small"] - current["small-unmetered"]
    metering_line = (f"limits + accounting (Admit, Account and their LMDB transactions): {metering:,} instructions "
                     f"per small request ({metering / current['small']:.0%} of {current['small']:,})\n"
                     f"the stack alone (NIO + libcurl relay): {current['small-floor-curl']:,}; with a NIO client instead of "
                     f"libcurl: {current['small-floor-nio']:,}; the gateway's own work: "
                     f"{current['small'] - current['small-floor-curl']:,}")
    if opts.update or not BASELINE.exists():
        BASELINE.write_text(json.dumps({
            "about": "Instructions (callgrind Ir) the release gateway executes per request, from `make bench-check`. "
                     "Rewrite with `make bench-check UPDATE=1` after an intended change.",
            "requests": COUNTS,
            "tolerance": TOLERANCE,
            "instructions": current,
            "units": units,
            "valgrind": subprocess.run(["valgrind", "--version"], capture_output=True, text=True).stdout.strip(),
        }, indent=2) + "\n")
        log(f"wrote {BASELINE.relative_to(lib.ROOT)}")
        for p, v in current.items():
            print(f"  {p:<17} {v:>14,} instructions {units[p]}")
        print(f"\n{metering_line}")
        return 0

    base = json.loads(BASELINE.read_text())
    tol = base.get("tolerance", TOLERANCE)
    failed = []
    print()
    print(f"{'phase':<17} {'baseline':>14} {'now':>14} {'change':>8}")
    for p, v in current.items():
        b = base["instructions"].get(p)
        if b is None:
            print(f"{p:<17} {'—':>14} {v:>14,}   (not in the baseline)")
            continue
        change = (v - b) / b
        flag = ""
        if change > tol:
            flag = f"  REGRESSION (> {tol:.0%})"
            failed.append(p)
        elif change < -tol:
            flag = "  faster: consider `make bench-check UPDATE=1`"
        print(f"{p:<17} {b:>14,} {v:>14,} {change:>+8.1%}{flag}   {units[p]}")
    print(f"\n{metering_line}")
    log(f"took {time.monotonic() - started:.0f} s")
    if failed:
        print(f"\nbench-check failed: {', '.join(failed)} regressed by more than {tol:.0%}. "
              "Profile with `make bench-check PROFILE=1`; if the cost is intended, `make bench-check UPDATE=1`.")
        return 1
    print("\nbench-check passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
