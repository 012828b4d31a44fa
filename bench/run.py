#!/usr/bin/env python3
"""`make bench`: Switchyard side by side with nginx and LiteLLM, in one run, on this machine.

Starts a fast fixed-body upstream (nginx `return 200`), switchyard-mock (streaming), nginx as a
plain reverse proxy, the LiteLLM proxy (one worker, no database) and Switchyard (auth and plan
checks on), then measures the four scenarios of issue 4 and writes the table into BENCHMARKS.md.

Every target is measured in interleaved rounds (direct, nginx, Switchyard, LiteLLM, then again)
and each figure is the median over rounds of that round's value, so a burst of load from other
work on the machine hits one round, not one target. "Added" figures are taken per round against
the direct run of the same round.

Options (the environment variable in brackets does the same):
  --quick              1 round of 1 s per measurement, 6 s leak check [BENCH_QUICK=1]; a smoke
                       run for developing this script: it never writes BENCHMARKS.md
  --leak-requests N    requests for the memory-growth check (default 1,000,000) [LEAK_REQUESTS]
  --leak-seconds S     ... or at most this long (default 200 s); the count reached is reported
                       [LEAK_SECONDS]
  --no-litellm         skip LiteLLM; its budget line is then "not measured" [BENCH_NO_LITELLM=1]
  --no-write           print the table, leave BENCHMARKS.md alone
  --from-json PATH     re-render the table from a results.json without running anything
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import lib  # noqa: E402
import sse_client  # noqa: E402
from lib import HOST, log  # noqa: E402

LITELLM_VERSION = "1.106.0"
LITELLM_MASTER_KEY = "sk-bench-litellm-master"

BENCH_KEYS = 64

# CPU per request is measured at one fixed rate for every proxy (bench/wrk/post.lua, WRK_RATE):
# below what any of them saturates at here, so each burns CPU per request, not per spin, and
# the wake-ups per second are the same for all, however fast each one answers. LiteLLM tops out
# near 100 req/s here, so it gets its own, much lower rate on one connection.
CPU_RATE, CPU_CONNS = 1500, 4
LITELLM_CPU_RATE = 25
# An achieved rate this far below the fixed one means the target (or wrk) could not keep up.
RATE_SHORTFALL = 0.05

STREAM_WORDS = 100
STREAM_DELAY_MS = 10
# Pause between a leak-check load slice and its memory sample: three of the usage store's
# 100 ms sync periods, after which the pages written during the slice have been released.
LEAK_SETTLE_S = 0.3


class Target:
    def __init__(self, name: str, label: str, port: int, auth: str | None, proc=None):
        self.name, self.label, self.port, self.auth, self.proc = name, label, port, auth, proc

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}/v1/chat/completions"

    def pids(self) -> list[int]:
        return lib.process_tree(self.proc.pid) if self.proc else []


class RSSSampler:
    """Peak RSS (total, and its anonymous part) of a process tree while a load runs."""

    def __init__(self, pids_fn, interval: float = 0.05):
        self.pids_fn, self.interval = pids_fn, interval
        self.peak = 0
        self.peak_anon = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _sample(self):
        r = lib.rss_split_kb(self.pids_fn())
        self.peak = max(self.peak, r["total"])
        self.peak_anon = max(self.peak_anon, r["anon"])

    def _run(self):
        while not self._stop.is_set():
            self._sample()
            self._stop.wait(self.interval)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self._sample()


def med(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


class Bench:
    def __init__(self, opts):
        self.o = opts
        self.quick = opts.quick
        self.run = lib.WORK / "run"
        shutil.rmtree(self.run, ignore_errors=True)
        self.run.mkdir(parents=True)
        lib.stage_binaries(self.run)
        self.svc = lib.Services(self.run)
        self.r: dict = {"config": {}}
        self.started = time.monotonic()
        self.lat_rounds, self.lat_s = (1, 1) if self.quick else (3, 3)
        self.tput_rounds, self.tput_s = (1, 1) if self.quick else (3, 3)
        self.cpu_rounds, self.cpu_s = (1, 2) if self.quick else (2, 4)
        # The cost breakdown (six targets, interleaved): shorter runs keep `make bench` in 10 min.
        self.cost_s, self.cost_cpu_s = (1, 1) if self.quick else (2, 3)
        self.stream_rounds = 1 if self.quick else 5
        if self.quick and opts.leak_seconds == 200:
            opts.leak_seconds = 6

    # ---- setup ------------------------------------------------------------------------------

    def litellm_bin(self) -> Path | None:
        if self.o.no_litellm:
            return None
        venv = lib.WORK / "venv-litellm"
        exe = venv / "bin" / "litellm"
        stamp = venv / f".installed-{LITELLM_VERSION}"
        if not stamp.exists():
            log(f"installing LiteLLM {LITELLM_VERSION} into {venv} (first run only)")
            if not (venv / "bin" / "python").exists():
                subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
            subprocess.run([str(venv / "bin" / "pip"), "install", "-q", "--disable-pip-version-check",
                            f"litellm[proxy]=={LITELLM_VERSION}"], check=True)
            stamp.touch()
        return exe

    def setup(self):
        lib.raise_fd_limit()
        self.bodies = lib.write_bodies(self.run / "bodies")
        self.r["config"]["body_bytes"] = {k: p.stat().st_size for k, p in self.bodies.items()}
        try:
            litellm = self.litellm_bin()
        except (subprocess.CalledProcessError, OSError) as e:
            log(f"LiteLLM could not be installed ({e}); going on without it")
            litellm = None

        up = lib.free_port()
        conf = lib.nginx_upstream_conf(self.run, up, workers=2)
        self.upstream = lib.start_nginx(self.svc, "nginx-upstream", conf, self.run, up)
        self.mock, mock_port = lib.start_mock(self.svc)
        log(f"fast upstream (nginx return 200) on :{up}, switchyard-mock on :{mock_port}")

        ngx, ngxs = lib.free_port(), lib.free_port()
        tmpl = (lib.BENCH / "nginx" / "proxy.conf.in").read_text()
        conf = self.run / "nginx-proxy.conf"
        conf.write_text(tmpl.replace("@RUN@", str(self.run)).replace("@PORT@", str(ngx))
                        .replace("@STREAM_PORT@", str(ngxs)).replace("@UPSTREAM_PORT@", str(up))
                        .replace("@MOCK_PORT@", str(mock_port)).replace("@WORKERS@", "2"))
        self.nginx = lib.start_nginx(self.svc, "nginx-proxy", conf, self.run, ngx)
        log(f"nginx reverse proxy on :{ngx} (streaming :{ngxs}), 2 workers")

        ll_proc, ll_port = None, None
        if litellm:
            ll_port = lib.free_port()
            cfg = self.run / "litellm.yaml"
            cfg.write_text((lib.BENCH / "litellm" / "config.yaml.in").read_text().replace("@UPSTREAM_PORT@", str(up)))
            env = {
                # Offline: the bundled model cost map, no telemetry, no hub downloads.
                "LITELLM_LOCAL_MODEL_COST_MAP": "True", "LITELLM_TELEMETRY": "False", "LITELLM_LOG": "ERROR",
                "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "DISABLE_SCHEMA_UPDATE": "true",
                "NO_PROXY": "127.0.0.1,localhost", "no_proxy": "127.0.0.1,localhost",
            }
            ll_proc = self.svc.spawn("litellm", [str(litellm), "--config", str(cfg), "--host", HOST,
                                                 "--port", str(ll_port), "--num_workers", "1"], env=env)
            log(f"LiteLLM {LITELLM_VERSION} starting on :{ll_port} (one worker, no database)")

        self.data = self.run / "data"
        # Load is spread over several keys of plan `test`, so its requests-per-minute limit is
        # checked on every request but never refuses one (a refusal is a cheaper, different path).
        self.keys = [lib.create_key(self.data, f"bench-{i}") for i in range(BENCH_KEYS)]
        self.key = self.keys[0]
        sy = lib.free_port()
        t0 = time.monotonic()
        self.sy_env = {"SWITCHYARD_MOCK_BASE_URL": f"http://{HOST}:{up}/v1"}
        self.sy = self.svc.spawn("switchyard", [str(lib.BIN / "switchyard"), "serve", "--listen", f"{HOST}:{sy}",
                                                "--data", str(self.data)], env=self.sy_env)
        lib.wait_http(sy, "/healthz", 10, self.sy, "switchyard")
        log(f"Switchyard on :{sy} → fast upstream ({(time.monotonic() - t0) * 1000:.0f} ms to healthy)")
        # The same gateway without its limit and accounting stages, for what those stages cost.
        um = lib.free_port()
        self.unmetered = self.svc.spawn("switchyard-unmetered", [str(lib.BIN / "switchyard-unmetered"), "--listen",
                                                                 f"{HOST}:{um}", "--data", str(self.data)], env=self.sy_env)
        lib.wait_http(um, "/healthz", 10, self.unmetered, "switchyard-unmetered")
        self.unmetered_target = Target("unmetered", "Switchyard without limits + accounting", um, ",".join(self.keys), self.unmetered)
        # The stack alone, no gateway work: NIO's server relaying through the gateway's libcurl
        # client, and through a NIO client instead.
        floors = {}
        for client in ("nio", "curl"):
            port = lib.free_port()
            proc = self.svc.spawn(f"relay-floor-{client}", [
                str(lib.BIN / "switchyard-relay-floor"), "--listen", f"{HOST}:{port}",
                "--upstream", f"http://{HOST}:{up}/v1/chat/completions", "--client", client])
            lib.wait_http(port, "/", 10, proc, f"switchyard-relay-floor --client {client}")  # relays any request
            floors[client] = Target(f"floor-{client}", f"stack alone: NIO + {'NIO client' if client == 'nio' else 'libcurl'}",
                                    port, None, proc)
        self.floor_nio, self.floor_curl = floors["nio"], floors["curl"]
        # The whole gateway over a NIO provider client instead of libcurl (benchmark build).
        nu = lib.free_port()
        proc = self.svc.spawn("switchyard-nio-upstream", [str(lib.BIN / "switchyard-nio-upstream"), "--listen",
                                                          f"{HOST}:{nu}", "--data", str(self.data)], env=self.sy_env)
        lib.wait_http(nu, "/healthz", 10, proc, "switchyard-nio-upstream")
        self.nio_upstream = Target("nio-upstream", "Switchyard on a NIO client", nu, ",".join(self.keys), proc)
        time.sleep(0.5)
        self.r["rss_idle_kb"] = {"switchyard": lib.rss_kb([self.sy.pid]),
                                 "nginx": lib.rss_kb(lib.process_tree(self.nginx.pid))}
        self.r["rss_idle_split_kb"] = lib.rss_split_kb([self.sy.pid])

        self.targets = [Target("direct", "direct", up, None, self.upstream),
                        Target("nginx", "nginx", ngx, None, self.nginx),
                        Target("switchyard", "Switchyard", sy, ",".join(self.keys), self.sy)]
        self.stream_ports = {"direct": mock_port, "nginx": ngxs}
        self.mock_port = mock_port
        if ll_proc:
            try:
                lib.wait_http(ll_port, "/health/liveliness", 120, ll_proc, "litellm")
                log(f"LiteLLM ready ({time.monotonic() - t0:.0f} s)")
                self.targets.append(Target("litellm", "LiteLLM", ll_port, LITELLM_MASTER_KEY, ll_proc))
                self.r["rss_idle_kb"]["litellm"] = lib.rss_kb(lib.process_tree(ll_proc.pid))
            except RuntimeError as e:
                log(f"{e}; going on without LiteLLM (see .build-bench/run/litellm.log)")
                self.svc.stop(ll_proc)
        self.by = {t.name: t for t in self.targets}

        # Every target answers correctly before anything is timed.
        for t in self.targets + [self.unmetered_target, self.floor_nio, self.floor_curl, self.nio_upstream]:
            for body in ("small", "large"):
                c = lib.HTTPConnection(t.port)
                hdrs = {"Content-Type": "application/json"}
                if t.auth:
                    hdrs["Authorization"] = f"Bearer {t.auth.split(',')[0]}"
                status, _, resp = c.request("POST", "/v1/chat/completions", self.bodies[body].read_bytes(), hdrs)
                c.close()
                if status != 200 or b'"chat.completion"' not in resp:
                    raise RuntimeError(f"{t.name} answered {status} to the {body} request: {resp[:300]!r}")
        log("warming up every target (1 s each)")
        for t in self.targets + [self.floor_nio, self.floor_curl, self.unmetered_target, self.nio_upstream]:
            self.wrk(t, "small", conns=4, seconds=1)

    # ---- load generation -------------------------------------------------------------------

    def wrk(self, t: Target, body: str, conns: int, seconds: float, rate: float = 0) -> dict:
        """One wrk run: closed loop, or at `rate` requests per second over all `conns` (one thread)."""
        out = self.run / "wrk-out.json"
        if out.exists():
            out.unlink()
        env = dict(os.environ, WRK_BODY=str(self.bodies[body]), WRK_AUTH=t.auth or "", WRK_OUT=str(out),
                   WRK_RATE=str(rate), WRK_DELAY_MS="0")
        cmd = ["wrk", "-t1", f"-c{conns}", f"-d{seconds}s", "--latency", "--timeout", "10s",
               "-s", str(lib.BENCH / "wrk" / "post.lua"), t.url]
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=seconds + 60)
        if proc.returncode != 0 or not out.exists():
            raise RuntimeError(f"wrk failed against {t.name}: {proc.stdout}{proc.stderr}")
        res = json.loads(out.read_text())
        res["rps"] = res["requests"] / (res["duration_us"] / 1e6)
        res["errors_total"] = sum(res["errors"].values())
        e = self.r.setdefault("errors", {}).setdefault(t.name, {"requests": 0, "errors": 0, "status": 0})
        e["requests"] += res["requests"]
        e["errors"] += res["errors_total"]
        e["status"] += res["errors"]["status"]
        if res["errors_total"]:
            log(f"  warning: {res['errors_total']} failed or non-2xx answers from {t.name} "
                f"({res['errors']['status']} non-2xx) in this run")
        if rate and res["rps"] < rate * (1 - RATE_SHORTFALL):
            log(f"  warning: {t.name} ran at {res['rps']:,.0f} req/s, {1 - res['rps'] / rate:.0%} below the fixed "
                f"rate of {rate:,.0f} req/s: it (or wrk) could not keep up, so this is not a fixed-rate figure")
        return res

    # ---- scenario 1 and 2: latency at one connection ----------------------------------------

    def latency(self, body: str, key: str, targets: list[Target]):
        rounds = {t.name: [] for t in targets}
        for r in range(self.lat_rounds):
            for t in targets:
                rounds[t.name].append(self.wrk(t, body, conns=1, seconds=self.lat_s))
        out = {}
        for t in targets:
            rs = rounds[t.name]
            d = rounds["direct"]
            out[t.name] = {
                "p50_us": med([x["lat"]["p50"] for x in rs]),
                "p99_us": med([x["lat"]["p99"] for x in rs]),
                "mean_us": med([x["lat"]["mean"] for x in rs]),
                "rps": med([x["rps"] for x in rs]),
                "requests": sum(x["requests"] for x in rs),
                "errors": sum(x["errors_total"] for x in rs),
                "added_p50_us": med([x["lat"]["p50"] - y["lat"]["p50"] for x, y in zip(rs, d)]),
                "added_p99_us": med([x["lat"]["p99"] - y["lat"]["p99"] for x, y in zip(rs, d)]),
            }
            log(f"  {t.label:<10} p50 {out[t.name]['p50_us']:>8.0f} µs  p99 {out[t.name]['p99_us']:>8.0f} µs  "
                f"added p50 {out[t.name]['added_p50_us']:>+8.0f} µs  p99 {out[t.name]['added_p99_us']:>+8.0f} µs  "
                f"({out[t.name]['requests']} requests, {out[t.name]['errors']} errors)")
        self.r[key] = out

    # ---- scenario 1: throughput -------------------------------------------------------------

    def throughput(self):
        out = {}
        peaks = {}
        for conns in (16, 64):
            rounds = {t.name: [] for t in self.targets}
            for r in range(self.tput_rounds):
                for t in self.targets:
                    if conns == 64 and t.name in ("nginx", "switchyard", "litellm"):
                        with RSSSampler(t.pids) as s:
                            rounds[t.name].append(self.wrk(t, "small", conns, self.tput_s))
                        peaks[t.name] = max(peaks.get(t.name, 0), s.peak)
                        if t.name == "switchyard":
                            self.r["rss_c64_anon_kb"] = max(self.r.get("rss_c64_anon_kb", 0), s.peak_anon)
                    else:
                        rounds[t.name].append(self.wrk(t, "small", conns, self.tput_s))
            for t in self.targets:
                rs = rounds[t.name]
                o = out.setdefault(t.name, {})
                o[f"c{conns}_rps"] = med([x["rps"] for x in rs])
                o[f"c{conns}_p99_us"] = med([x["lat"]["p99"] for x in rs])
                o[f"c{conns}_errors"] = sum(x["errors_total"] for x in rs)
                log(f"  {conns:>2} conns  {t.label:<10} {o[f'c{conns}_rps']:>9.0f} req/s  "
                    f"p99 {o[f'c{conns}_p99_us'] / 1000:>7.2f} ms  errors {o[f'c{conns}_errors']}")
        self.r["throughput"] = out
        self.r["rss_c64_kb"] = peaks

    # ---- scenario 3: streaming ---------------------------------------------------------------

    def streaming(self):
        sy_port = lib.free_port()
        proc = self.svc.spawn("switchyard-stream", [str(lib.BIN / "switchyard"), "serve", "--listen",
                                                    f"{HOST}:{sy_port}", "--data", str(self.data)],
                              env={"SWITCHYARD_MOCK_BASE_URL": f"http://{HOST}:{self.mock_port}/v1"})
        lib.wait_http(sy_port, "/healthz", 10, proc, "switchyard (streaming)")
        log(f"  a second Switchyard on :{sy_port} → switchyard-mock, for streams")
        ports = dict(self.stream_ports, switchyard=sy_port)
        auths = {"direct": None, "nginx": None, "switchyard": self.key}
        labels = {"direct": "direct", "nginx": "nginx", "switchyard": "Switchyard"}
        body = self.bodies["stream"].read_bytes()
        n, stagger = 8, STREAM_DELAY_MS / 1000 / 8
        # Warm the upstream connections of both proxies.
        for name in ports:
            sse_client.run_streams(ports[name], body, auths[name], n, stagger_s=stagger)
        per = {name: {"ttfb": [], "head": [], "gaps": [], "held": [], "bad": 0, "streams": 0} for name in ports}
        for r in range(self.stream_rounds):
            for name in ports:
                rs = sse_client.run_streams(ports[name], body, auths[name], n, stagger_s=stagger)
                p = per[name]
                ttfbs = [x.ttfb_us for x in rs if x.arrivals]
                p["ttfb"].append(lib.median(ttfbs))
                p["head"].append(lib.median([x.head_us for x in rs if x.head_ns]))
                gaps = [g for x in rs for g in x.gaps_us()]
                p["gaps"].append(gaps)
                # A chunk the proxy held back arrives in the same read as the next one.
                p["held"].append(sum(1 for g in gaps if g < STREAM_DELAY_MS * 1000 / 4))
                p["bad"] += sum(1 for x in rs if not self.stream_ok(x))
                p["streams"] += len(rs)
        out = {}
        for name in ports:
            p, d = per[name], per["direct"]
            o = out[name] = {
                "ttfb_us": med(p["ttfb"]),
                "head_us": med(p["head"]),
                "gap_p50_us": med([lib.percentile(g, 50) for g in p["gaps"]]),
                "gap_p99_us": med([lib.percentile(g, 99) for g in p["gaps"]]),
                "gap_max_us": max(max(g) for g in p["gaps"]),
                "added_ttfb_us": med([a - b for a, b in zip(p["ttfb"], d["ttfb"])]),
                "added_gap_p50_us": med([lib.percentile(a, 50) - lib.percentile(b, 50) for a, b in zip(p["gaps"], d["gaps"])]),
                "added_gap_p99_us": med([lib.percentile(a, 99) - lib.percentile(b, 99) for a, b in zip(p["gaps"], d["gaps"])]),
                "held_back": sum(p["held"]),
                "gaps_measured": sum(len(g) for g in p["gaps"]),
                "bad_streams": p["bad"],
                "streams": p["streams"],
            }
            log(f"  {labels[name]:<10} TTFB {o['ttfb_us'] / 1000:6.2f} ms (added {o['added_ttfb_us']:+7.0f} µs)  "
                f"gap p50 {o['gap_p50_us'] / 1000:6.3f} ms (added {o['added_gap_p50_us']:+6.0f} µs)  "
                f"p99 {o['gap_p99_us'] / 1000:6.3f} ms (added {o['added_gap_p99_us']:+6.0f} µs)  "
                f"held back {o['held_back']}/{o['gaps_measured']}  bad streams {o['bad_streams']}")
        # 500 concurrent streams, all must complete with every chunk and [DONE].
        for name in ports:
            t0 = time.monotonic()
            with RSSSampler(lambda: [proc.pid] if name == "switchyard" else []) as s:
                rs = sse_client.run_streams(ports[name], body, auths[name], 500, timeout=120)
            took = time.monotonic() - t0
            ok = sum(1 for x in rs if self.stream_ok(x))
            errors = sorted({x.error or f"status {x.status}" for x in rs if not self.stream_ok(x)})[:3]
            out[name]["c500_ok"] = ok
            out[name]["c500_seconds"] = took
            out[name]["c500_errors"] = errors
            if name == "switchyard":
                out[name]["c500_rss_kb"] = s.peak
            log(f"  500 concurrent streams via {labels[name]:<10} {ok}/500 complete in {took:.2f} s"
                + (f"  errors: {errors}" if errors else "")
                + (f"  (peak RSS {s.peak / 1024:.1f} MB)" if name == "switchyard" else ""))
        self.svc.stop(proc)
        self.r["streaming"] = out

    @staticmethod
    def stream_ok(x) -> bool:
        return x.error is None and x.status == 200 and x.done and x.complete and x.content_events == STREAM_WORDS

    # ---- scenario 4: CPU, memory, cold start ------------------------------------------------

    def cpu(self):
        # The same fixed rate for both proxies (CPU_RATE over CPU_CONNS connections), well below
        # what either saturates at here; LiteLLM at its own rate (see CPU_RATE).
        self.r["config"]["cpu_rate"] = {"proxies": CPU_RATE, "conns": CPU_CONNS, "litellm": LITELLM_CPU_RATE}
        names = [n for n in ("nginx", "switchyard") if n in self.by]
        rounds = {n: [] for n in names}
        for r in range(self.cpu_rounds):
            for n in names:
                t = self.by[n]
                pids = t.pids()
                before = lib.cpu_ticks(pids)
                res = self.wrk(t, "small", conns=CPU_CONNS, seconds=self.cpu_s, rate=CPU_RATE)
                ticks = lib.cpu_ticks(pids) - before
                rounds[n].append((ticks * 1e6 / lib.CLK_TCK / max(res["requests"], 1), res["rps"]))
        out = {n: {"us_per_request": med([x[0] for x in rounds[n]]), "rps": med([x[1] for x in rounds[n]])} for n in names}
        if "litellm" in self.by:
            t = self.by["litellm"]
            pids = t.pids()
            before = lib.cpu_ticks(pids)
            res = self.wrk(t, "small", conns=1, seconds=self.cpu_s, rate=LITELLM_CPU_RATE)
            ticks = lib.cpu_ticks(pids) - before
            out["litellm"] = {"us_per_request": ticks * 1e6 / lib.CLK_TCK / max(res["requests"], 1), "rps": res["rps"]}
        for n, o in out.items():
            log(f"  {self.by[n].label:<10} {o['us_per_request']:7.1f} µs CPU per request at {o['rps']:.0f} req/s")
        self.r["cpu"] = out

    def metering(self):
        """Where the added cost sits, interleaved rounds, small request: nginx; the stack alone
        (`switchyard-relay-floor`: NIO's server relaying through a NIO client, then through the
        gateway's libcurl client); the gateway without its limit (Admit) and accounting (Account)
        stages (`switchyard-unmetered`); the real gateway over a NIO provider client
        (`switchyard-nio-upstream`); and the real gateway."""
        pair = [self.by["direct"], self.by["nginx"], self.floor_nio, self.floor_curl, self.unmetered_target,
                self.nio_upstream, self.by["switchyard"]]
        rounds = {t.name: {"lat": [], "p99": [], "cpu": [], "rps16": []} for t in pair}
        for r in range(self.cpu_rounds + 1):
            for t in pair:
                res = self.wrk(t, "small", conns=1, seconds=self.cost_s)
                rounds[t.name]["lat"].append(res["lat"]["p50"])
                rounds[t.name]["p99"].append(res["lat"]["p99"])
                if t.name == "direct":
                    continue
                pids = t.pids()
                before = lib.cpu_ticks(pids)
                res = self.wrk(t, "small", conns=CPU_CONNS, seconds=self.cost_cpu_s, rate=CPU_RATE)
                rounds[t.name]["cpu"].append(
                    (lib.cpu_ticks(pids) - before) * 1e6 / lib.CLK_TCK / max(res["requests"], 1))
                rounds[t.name]["rps16"].append(self.wrk(t, "small", conns=16, seconds=self.cost_s)["rps"])
        d = rounds["direct"]
        out = {}
        for t in pair[1:]:
            x = rounds[t.name]
            out[t.name] = {"added_p50_us": med([a - b for a, b in zip(x["lat"], d["lat"])]),
                           "added_p99_us": med([a - b for a, b in zip(x["p99"], d["p99"])]),
                           "cpu_us": med(x["cpu"]), "rps16": med(x["rps16"])}
            log(f"  {t.label:<40} added p50 {out[t.name]['added_p50_us']:>+6.0f} µs  p99 {out[t.name]['added_p99_us']:>+6.0f} µs  "
                f"CPU {out[t.name]['cpu_us']:6.1f} µs/request  {out[t.name]['rps16']:8.0f} req/s at 16 conns")
        self.r["metering"] = out

    def leak(self):
        """RSS of Switchyard while it serves `leak_requests` small requests at 16 connections."""
        t = self.by["switchyard"]
        want, cap = self.o.leak_requests, self.o.leak_seconds
        slice_s = 2 if self.quick else 10
        done, samples = 0, []
        t0 = time.monotonic()
        while done < want and time.monotonic() - t0 < cap:
            res = self.wrk(t, "small", conns=16, seconds=slice_s)
            if res["errors_total"]:
                log(f"  leak check: {res['errors_total']} errors in a slice")
            done += res["requests"]
            # Sample what the process keeps, not what the last 100 ms of load left mapped: the
            # usage store releases its written pages at each sync (every 100 ms), so wait three.
            time.sleep(LEAK_SETTLE_S)
            r = lib.rss_split_kb([t.proc.pid])
            samples.append((done, r["total"], r["anon"], r["file"]))
            log(f"  {done:>9,} requests  RSS {r['total'] / 1024:6.1f} MB (anonymous {r['anon'] / 1024:5.1f} MB, "
                f"file-backed {r['file'] / 1024:5.1f} MB)")
        by_mapping = lib.rss_by_mapping_kb(t.proc.pid)
        log("  largest resident mappings: " + ", ".join(f"{Path(p).name} {kb / 1024:.1f} MB" for p, kb in by_mapping))
        ledger = sum(f.stat().st_blocks * 512 for f in (self.data / "usage").rglob("*") if f.is_file())
        self.r["leak"] = {"requests": done, "wanted": want, "seconds": time.monotonic() - t0,
                          "rss_first_kb": samples[0][1], "rss_last_kb": samples[-1][1],
                          "anon_first_kb": samples[0][2], "anon_last_kb": samples[-1][2],
                          "file_first_kb": samples[0][3], "file_last_kb": samples[-1][3],
                          "rss_max_kb": max(x[1] for x in samples), "samples": samples,
                          "usage_store_bytes": ledger, "rss_by_mapping_kb": by_mapping}

    def cold_start(self):
        times = []
        for i in range(10):
            port = lib.free_port()
            t0 = time.perf_counter()
            p = self.svc.spawn("switchyard-cold", [str(lib.BIN / "switchyard"), "serve", "--listen", f"{HOST}:{port}",
                                                   "--data", str(self.data)], env=self.sy_env)
            while True:
                if lib.http_get_status(port, "/healthz", timeout=1.0) == 200:
                    break
                if p.poll() is not None:
                    raise RuntimeError("switchyard exited during the cold-start test")
                if time.perf_counter() - t0 > 10:
                    raise RuntimeError("switchyard did not answer /healthz within 10 s")
                time.sleep(0.0005)
            times.append((time.perf_counter() - t0) * 1000)
            self.svc.stop(p)
        self.r["cold_start_ms"] = {"median": statistics.median(times), "min": min(times), "max": max(times), "runs": times}
        log(f"  spawn → first 200 on /healthz: median {statistics.median(times):.1f} ms "
            f"(min {min(times):.1f}, max {max(times):.1f}, 10 runs)")

    # ---- the whole run ----------------------------------------------------------------------

    def main(self):
        try:
            log("starting servers")
            self.setup()
            lat_targets = self.targets
            log(f"scenario 1: small request (~{self.r['config']['body_bytes']['small']} B), 1 connection, "
                f"{self.lat_rounds} rounds × {self.lat_s} s per target")
            self.latency("small", "small", lat_targets)
            log(f"scenario 1: throughput at 16 and 64 connections, {self.tput_rounds} rounds × {self.tput_s} s per target")
            self.throughput()
            log(f"scenario 2: large request (~{self.r['config']['body_bytes']['large'] // 1024} KB), 1 connection")
            self.latency("large", "large", lat_targets)
            log(f"scenario 3: streaming ({STREAM_WORDS} chunks, {STREAM_DELAY_MS} ms apart) through switchyard-mock")
            self.streaming()
            log("scenario 4: CPU per request at a fixed rate")
            self.cpu()
            log("where the added cost sits: nginx, the stack alone (NIO + NIO client, NIO + libcurl), "
                "Switchyard without limits + accounting, Switchyard on a NIO client, Switchyard")
            self.metering()
            log(f"scenario 4: memory over up to {self.o.leak_requests:,} requests (at most {self.o.leak_seconds:.0f} s)")
            self.leak()
            time.sleep(1.0)
            self.r["rss_idle_after_kb"] = lib.rss_kb([self.sy.pid])
            self.r["rss_idle_after_split_kb"] = lib.rss_split_kb([self.sy.pid])
            log("scenario 4: cold start")
            self.cold_start()
        finally:
            self.svc.stop_all()
        self.r["elapsed_s"] = time.monotonic() - self.started
        return self.r


# ---------------------------------------------------------------------------------------------
# Report

def fmt_us(v, signed=False):
    if v is None:
        return "—"
    if abs(v) >= 10000:
        return (f"{v / 1000:+,.1f} ms" if signed else f"{v / 1000:,.1f} ms")
    return f"{v:+,.0f} µs" if signed else f"{v:,.0f} µs"


def ratio(a, b):
    if a is None or b is None or b <= 0:
        return "—"
    return f"{a / b:.2f}×" if a / b < 100 else f"{a / b:,.0f}×"


def machine() -> dict:
    model = "unknown"
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
        for line in out.splitlines():
            if line.startswith("Model name:"):
                model = line.split(":", 1)[1].strip()
    except OSError:
        pass
    def version(cmd):
        try:
            p = subprocess.run(cmd, capture_output=True, text=True)
            return (p.stdout + p.stderr).strip().splitlines()[0]
        except (OSError, IndexError):
            return "?"
    return {"nproc": os.cpu_count(), "cpu": model, "kernel": platform.release(),
            "date": datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z"),
            "nginx": version(["nginx", "-v"]).replace("nginx version: ", ""),
            "wrk": version(["wrk", "--version"]).split(" [")[0],
            "swift": version(["swift", "--version"]),
            "load": os.getloadavg()[0]}


def budget(r) -> list[tuple[str, str, str, bool | str]]:
    """(line, measured, limit, pass) for each budget line of issue 4."""
    rows = []
    s, n, sy = r["small"], r["small"].get("nginx"), r["small"].get("switchyard")
    ll = r["small"].get("litellm")

    def line(text, measured, limit, ok):
        rows.append((text, measured, limit, ok))

    line("added p50 latency, 1 conn, small ≤ 2× nginx's",
         f"{fmt_us(sy['added_p50_us'], True)} vs nginx {fmt_us(n['added_p50_us'], True)} ({ratio(sy['added_p50_us'], n['added_p50_us'])})",
         "≤ 2×", sy["added_p50_us"] <= 2 * max(n["added_p50_us"], 1))
    line("added p99 latency, 1 conn, small ≤ 3× nginx's",
         f"{fmt_us(sy['added_p99_us'], True)} vs nginx {fmt_us(n['added_p99_us'], True)} ({ratio(sy['added_p99_us'], n['added_p99_us'])})",
         "≤ 3×", sy["added_p99_us"] <= 3 * max(n["added_p99_us"], 1))
    tp = r["throughput"]
    line("throughput, 16 conns ≥ 0.5× nginx's",
         f"{tp['switchyard']['c16_rps']:,.0f} vs {tp['nginx']['c16_rps']:,.0f} req/s ({ratio(tp['switchyard']['c16_rps'], tp['nginx']['c16_rps'])})",
         "≥ 0.5×", tp["switchyard"]["c16_rps"] >= 0.5 * tp["nginx"]["c16_rps"])
    if "litellm" in tp:
        line("throughput, 16 conns ≥ 100× LiteLLM's",
             f"{tp['switchyard']['c16_rps']:,.0f} vs {tp['litellm']['c16_rps']:,.0f} req/s ({ratio(tp['switchyard']['c16_rps'], tp['litellm']['c16_rps'])})",
             "≥ 100×", tp["switchyard"]["c16_rps"] >= 100 * tp["litellm"]["c16_rps"])
    else:
        line("throughput, 16 conns ≥ 100× LiteLLM's", "not measured (LiteLLM left out)", "≥ 100×", "not measured")
    c = r["cpu"]
    line("CPU per request ≤ 2× nginx's",
         f"{c['switchyard']['us_per_request']:.1f} vs {c['nginx']['us_per_request']:.1f} µs ({ratio(c['switchyard']['us_per_request'], c['nginx']['us_per_request'])})",
         "≤ 2×", c["switchyard"]["us_per_request"] <= 2 * c["nginx"]["us_per_request"])
    lg = r["large"]["switchyard"]
    line("100 KB request: added p50 latency", fmt_us(lg["added_p50_us"], True), "≤ 300 µs", lg["added_p50_us"] <= 300)
    st = r["streaming"]["switchyard"]
    line("streaming: added time to first chunk", fmt_us(st["added_ttfb_us"], True), "≤ 1 ms", st["added_ttfb_us"] <= 1000)
    line("streaming: added inter-chunk gap p50", fmt_us(st["added_gap_p50_us"], True), "≤ 50 µs", st["added_gap_p50_us"] <= 50)
    direct_held = r["streaming"]["direct"]["held_back"]
    line("streaming: no chunk held back",
         f"{st['held_back']} of {st['gaps_measured']} chunks arrived merged with the next (direct: {direct_held}); "
         f"{st['bad_streams']} incomplete",
         "0", st["held_back"] <= direct_held and st["bad_streams"] == 0)
    line("streaming: 500 concurrent streams without loss", f"{st['c500_ok']}/500 complete with every chunk and [DONE]",
         "500/500", st["c500_ok"] == 500)
    start = r["rss_idle_kb"]["switchyard"]
    after = r["rss_idle_after_split_kb"]
    line("memory idle",
         f"{start / 1024:.1f} MB at start; after the run {after['total'] / 1024:.1f} MB, of which "
         f"{after['anon'] / 1024:.1f} MB anonymous (heap) and {after['file'] / 1024:.1f} MB file-backed",
         "≤ 30 MB", start <= 30 * 1024 and after["anon"] <= 30 * 1024)
    m64 = r["rss_c64_kb"]["switchyard"]
    line("memory at 64 connections (peak RSS)", f"{m64 / 1024:.1f} MB ({r.get('rss_c64_anon_kb', 0) / 1024:.1f} MB anonymous)",
         "≤ 100 MB", m64 <= 100 * 1024)
    lk = r["leak"]
    growth = lk["anon_last_kb"] - lk["anon_first_kb"]
    flat = growth <= max(2048, 0.05 * lk["anon_first_kb"])
    line(f"memory flat over many requests: heap (anonymous RSS), {lk['requests']:,} requests served",
         f"{lk['anon_first_kb'] / 1024:.1f} MB after the first {lk['samples'][0][0]:,} → {lk['anon_last_kb'] / 1024:.1f} MB "
         f"after {lk['requests']:,} ({growth / 1024:+.1f} MB)",
         "flat (≤ +2 MB or 5%) over 1,000,000", flat if lk["requests"] >= 1_000_000 else ("partial" if flat else False))
    fgrowth = lk["file_last_kb"] - lk["file_first_kb"]
    line("memory over many requests: total RSS",
         f"{lk['rss_first_kb'] / 1024:.1f} → {lk['rss_last_kb'] / 1024:.1f} MB; file-backed part {fgrowth / 1024:+.1f} MB "
         f"({fgrowth * 1024 / max(lk['requests'] - lk['samples'][0][0], 1):.0f} B per request; the usage store is "
         f"{lk['usage_store_bytes'] / 1e6:.0f} MB on disk)",
         "flat (every later sample ≤ +2 MB or 5%)",
         max(x[1] for x in lk["samples"]) - lk["rss_first_kb"] <= max(2048, 0.05 * lk["rss_first_kb"]))
    errs = r.get("errors", {}).get("switchyard", {"requests": 0, "errors": 0, "status": 0})
    line("every request answered 200 (validity of the run)",
         f"{errs['errors']:,} of {errs['requests']:,} failed ({errs['status']:,} non-2xx)", "0", errs["errors"] == 0)
    cs = r["cold_start_ms"]
    line("cold start to first served request (median of 10)", f"{cs['median']:.1f} ms", "≤ 50 ms", cs["median"] <= 50)
    return rows


def report(r, m, command) -> str:
    names = ["direct", "nginx", "litellm", "switchyard"]
    labels = {"direct": "direct", "nginx": "nginx", "litellm": "LiteLLM", "switchyard": "Switchyard"}
    have = [n for n in names if n in r["small"]]
    L = []
    L.append(f"Measured {m['date']} on {m['nproc']} cores ({m['cpu']}), Linux {m['kernel']}; load average "
             f"{m['load']:.1f} when it finished; nginx {m['nginx']}, {m['wrk']}, LiteLLM {LITELLM_VERSION}; "
             f"run took {r['elapsed_s'] / 60:.1f} min.")
    L.append("")
    L.append(f"Reproduce: `{command}`")
    L.append("")
    L.append("### Budget (issue 4)")
    L.append("")
    L.append("| budget line | measured | limit | result |")
    L.append("|---|---|---|---|")
    for text, measured, limit, ok in budget(r):
        verdict = ok if isinstance(ok, str) else ("**pass**" if ok else "**miss**")
        L.append(f"| {text} | {measured} | {limit} | {verdict} |")
    L.append("")
    L.append("### Measurements")
    L.append("")
    head = "| scenario | metric | " + " | ".join(labels[n] for n in have) + " | Switchyard ÷ nginx |"
    L.append(head)
    L.append("|---|---|" + "---|" * (len(have) + 1))

    def row(scn, metric, vals, rat=""):
        L.append(f"| {scn} | {metric} | " + " | ".join(vals) + f" | {rat} |")

    s = r["small"]
    row(f"1. small ({r['config']['body_bytes']['small']} B), 1 conn", "latency p50",
        [fmt_us(s[n]["p50_us"]) for n in have])
    row("", "latency p99", [fmt_us(s[n]["p99_us"]) for n in have])
    row("", "added latency p50", ["—" if n == "direct" else fmt_us(s[n]["added_p50_us"], True) for n in have],
        ratio(s["switchyard"]["added_p50_us"], s["nginx"]["added_p50_us"]))
    row("", "added latency p99", ["—" if n == "direct" else fmt_us(s[n]["added_p99_us"], True) for n in have],
        ratio(s["switchyard"]["added_p99_us"], s["nginx"]["added_p99_us"]))
    tp = r["throughput"]
    for c in (16, 64):
        row(f"1. small, {c} conns", "throughput", [f"{tp[n][f'c{c}_rps']:,.0f} req/s" for n in have],
            ratio(tp["switchyard"][f"c{c}_rps"], tp["nginx"][f"c{c}_rps"]))
        row("", "latency p99", [fmt_us(tp[n][f"c{c}_p99_us"]) for n in have])
    if any(tp[n][f"c{c}_errors"] for n in have for c in (16, 64)):
        row("", "errors (16 / 64 conns)", [f"{tp[n]['c16_errors']} / {tp[n]['c64_errors']}" for n in have])
    lg = r["large"]
    row(f"2. large ({r['config']['body_bytes']['large'] // 1024} KB), 1 conn", "latency p50", [fmt_us(lg[n]["p50_us"]) for n in have])
    row("", "latency p99", [fmt_us(lg[n]["p99_us"]) for n in have])
    row("", "added latency p50", ["—" if n == "direct" else fmt_us(lg[n]["added_p50_us"], True) for n in have],
        ratio(lg["switchyard"]["added_p50_us"], lg["nginx"]["added_p50_us"]))
    row("", "added latency p99", ["—" if n == "direct" else fmt_us(lg[n]["added_p99_us"], True) for n in have],
        ratio(lg["switchyard"]["added_p99_us"], lg["nginx"]["added_p99_us"]))
    st = r["streaming"]
    sv = lambda key, f: [f(st[n]) if n in st else "n/a" for n in have]  # noqa: E731
    row(f"3. stream ({STREAM_WORDS} chunks, {STREAM_DELAY_MS} ms apart)", "time to first chunk",
        sv("ttfb", lambda o: fmt_us(o["ttfb_us"])))
    row("", "added time to first chunk", sv("", lambda o: "—" if o is st["direct"] else fmt_us(o["added_ttfb_us"], True)))
    row("", "inter-chunk gap p50 / p99", sv("", lambda o: f"{o['gap_p50_us'] / 1000:.3f} / {o['gap_p99_us'] / 1000:.3f} ms"))
    row("", "added gap p50 / p99", sv("", lambda o: "—" if o is st["direct"] else
                                      f"{fmt_us(o['added_gap_p50_us'], True)} / {fmt_us(o['added_gap_p99_us'], True)}"))
    row("", "chunks held back", sv("", lambda o: f"{o['held_back']} of {o['gaps_measured']}"))
    row("", "500 concurrent streams complete", sv("", lambda o: f"{o['c500_ok']}/500 in {o['c500_seconds']:.1f} s"))
    c = r["cpu"]
    row("4. CPU at a fixed rate", "CPU per request", [f"{c[n]['us_per_request']:.1f} µs @ {c[n]['rps']:,.0f}/s" if n in c else "—" for n in have],
        ratio(c["switchyard"]["us_per_request"], c["nginx"]["us_per_request"]))
    idle = r["rss_idle_kb"]
    row("4. memory (RSS)", "idle after start", [f"{idle[n] / 1024:.1f} MB" if n in idle else "—" for n in have])
    p64 = r["rss_c64_kb"]
    row("", "peak at 64 conns", [f"{p64[n] / 1024:.1f} MB" if n in p64 else "—" for n in have])
    lk = r["leak"]
    row("", f"after {lk['requests']:,} requests", ["—"] * (len(have) - 1) +
        [f"{lk['rss_last_kb'] / 1024:.1f} MB ({lk['anon_last_kb'] / 1024:.1f} anonymous + {lk['file_last_kb'] / 1024:.1f} file-backed)"])
    row("", "500 streams (peak)", ["—"] * (len(have) - 1) + [f"{st['switchyard']['c500_rss_kb'] / 1024:.1f} MB"])
    errs = r.get("errors", {})
    row("all load runs", "failed or non-2xx / requests",
        [f"{errs[n]['errors']:,} / {errs[n]['requests']:,}" if n in errs else "—" for n in have])
    cs = r["cold_start_ms"]
    row("4. cold start", "spawn → first 200 (median of 10)", ["—"] * (len(have) - 1) + [f"{cs['median']:.1f} ms"])
    if "metering" in r:
        mt = r["metering"]
        on, off = mt["switchyard"], mt["unmetered"]
        if "floor-curl" in mt:
            cols = [("nginx", "nginx"), ("floor-nio", "stack alone, NIO client"), ("floor-curl", "stack alone, libcurl client"),
                    ("unmetered", "Switchyard without limits + accounting")]
            if "nio-upstream" in mt:
                cols.append(("nio-upstream", "Switchyard on a NIO client"))
            cols.append(("switchyard", "Switchyard"))
            ng = mt["nginx"]
            L.append("")
            L.append("### Where the added cost sits")
            L.append("")
            L.append("Interleaved rounds in this run, small request, each figure with its ratio to nginx's. "
                     "*Stack alone* is `switchyard-relay-floor`: NIO's HTTP server relaying the body to the upstream "
                     "and the answer back, with no key, plan, JSON, limit or ledger work — through the gateway's own "
                     "libcurl client (its thread and hand-offs), or through a NIO HTTP client on the event loop instead. "
                     "What Switchyard adds beyond the libcurl column is its own work; what that column adds beyond "
                     "nginx is the stack's. *Switchyard on a NIO client* is `switchyard-nio-upstream`: the whole gateway, "
                     "limits and ledger included, calling the upstream through that NIO client instead of libcurl "
                     "(a benchmark build: plain HTTP, no timeouts).")
            L.append("")
            L.append("| metric | " + " | ".join(label for _, label in cols) + " |")
            L.append("|---|" + "---|" * len(cols))

            def cells(key, fmt):
                return " | ".join(f"{fmt(mt[n][key])} ({ratio(mt[n][key], ng[key])})" for n, _ in cols)
            L.append(f"| added latency p50, 1 conn | {cells('added_p50_us', lambda v: fmt_us(v, True))} |")
            L.append(f"| added latency p99, 1 conn | {cells('added_p99_us', lambda v: fmt_us(v, True))} |")
            L.append(f"| CPU per request (fixed rate, {CPU_CONNS} conns) | {cells('cpu_us', lambda v: f'{v:.1f} µs')} |")
            L.append(f"| throughput, 16 conns | {cells('rps16', lambda v: f'{v:,.0f} req/s')} |")
            fl, sw = mt["floor-curl"], mt["switchyard"]
            L.append("")
            L.append(f"Switchyard's own work, beyond the libcurl stack floor: "
                     f"{fmt_us(sw['added_p50_us'] - fl['added_p50_us'], True)} added p50 latency, "
                     f"{sw['cpu_us'] - fl['cpu_us']:+.1f} µs CPU per request, "
                     f"{(sw['rps16'] / fl['rps16'] - 1) * 100:+.0f}% throughput at 16 connections.")
        L.append("")
        L.append("### What limits and usage accounting cost (issue 3)")
        L.append("")
        L.append("Switchyard against `switchyard-unmetered`, the same build with the Admit and Account stages "
                 "(rate and token admission, the ledger record, the `x-ratelimit-*` headers) switched off; "
                 "the same interleaved rounds, small request.")
        L.append("")
        L.append("| metric | with limits + accounting | without | cost of the two stages |")
        L.append("|---|---|---|---|")
        L.append(f"| added latency p50, 1 conn | {fmt_us(on['added_p50_us'], True)} | {fmt_us(off['added_p50_us'], True)} | "
                 f"{fmt_us(on['added_p50_us'] - off['added_p50_us'], True)} |")
        L.append(f"| CPU per request (fixed rate, 4 conns) | {on['cpu_us']:.1f} µs | {off['cpu_us']:.1f} µs | "
                 f"{on['cpu_us'] - off['cpu_us']:+.1f} µs |")
        L.append(f"| throughput, 16 conns | {on['rps16']:,.0f} req/s | {off['rps16']:,.0f} req/s | "
                 f"{(on['rps16'] / off['rps16'] - 1) * 100:+.0f}% |")
    L.append("")
    cr = r.get("config", {}).get("cpu_rate")
    if cr:
        how = (f"CPU per request is measured at a fixed rate: {cr['proxies']:,} req/s over {cr['conns']} connections "
               f"for nginx and Switchyard, {cr['litellm']} req/s over one connection for LiteLLM (`@` is the rate reached). ")
    else:  # results.json from before the fixed-rate schedule
        how = (f"LiteLLM's CPU is measured at ~{c.get('litellm', {}).get('rps', 0):.0f} req/s (one connection, 20 ms pauses), "
               f"the others at ~{c['switchyard']['rps']:,.0f} req/s. ")
    L.append("nginx figures are the sum of its master and worker processes; " + how +
             "Raw numbers: `.build-bench/results.json`.")
    return "\n".join(L)


START, END = "<!-- bench:results:start -->", "<!-- bench:results:end -->"


def write_benchmarks_md(text: str) -> None:
    path = lib.ROOT / "BENCHMARKS.md"
    block = f"{START}\n{text}\n{END}"
    if path.exists() and START in path.read_text() and END in path.read_text():
        old = path.read_text()
        new = old[:old.index(START)] + block + old[old.index(END) + len(END):]
    else:
        new = "# Benchmarks\n\n" + block + "\n"
    path.write_text(new)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", default=os.environ.get("BENCH_QUICK") == "1")
    ap.add_argument("--leak-requests", type=int, default=int(os.environ.get("LEAK_REQUESTS", "1000000")))
    ap.add_argument("--leak-seconds", type=float, default=float(os.environ.get("LEAK_SECONDS", "200")))
    ap.add_argument("--no-litellm", action="store_true", default=os.environ.get("BENCH_NO_LITELLM") == "1")
    ap.add_argument("--no-write", action="store_true")
    ap.add_argument("--from-json", metavar="PATH", help="re-render the table from a results.json, run nothing")
    opts = ap.parse_args()
    if opts.from_json:
        r = json.loads(Path(opts.from_json).read_text())
        text = report(r, r["machine"], r.get("command", "make bench"))
        print(text)
        if not opts.no_write:
            write_benchmarks_md(text)
        return
    for tool in ("wrk", "nginx"):
        if not shutil.which(tool):
            sys.exit(f"{tool} is not installed (make bench installs it: apt-get install wrk nginx-light)")
    bench = Bench(opts)
    r = bench.main()
    m = machine()
    r["machine"] = m
    results = lib.WORK / ("results-quick.json" if opts.quick else "results.json")
    command = "make bench"
    if opts.leak_requests != 1_000_000 or opts.leak_seconds != 200:
        command += f" LEAK_REQUESTS={opts.leak_requests} LEAK_SECONDS={opts.leak_seconds:g}"
    if opts.no_litellm:
        command += " BENCH_NO_LITELLM=1"
    r["command"] = command
    results.write_text(json.dumps(r, indent=1))
    text = report(r, m, command)
    print()
    print(text)
    if opts.quick:
        log("--quick: a smoke run, BENCHMARKS.md left alone")
    elif not opts.no_write:
        write_benchmarks_md(text)
        log("wrote BENCHMARKS.md")


if __name__ == "__main__":
    main()
