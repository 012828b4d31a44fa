"""An asyncio SSE client that timestamps every event as it arrives (scenario 3 of `make bench`).

One connection per stream, raw HTTP/1.1 over a socket: the chunked framing is decoded here, and
each complete SSE event (`...\\n\\n`) gets the arrival time of the read that completed it, so
two events that arrive in one read (one was held back) show up as a zero gap.
"""
from __future__ import annotations

import asyncio
import socket
import time

from lib import HOST


class StreamResult:
    __slots__ = ("status", "sent_ns", "head_ns", "arrivals", "done", "content_events", "error", "complete")

    def __init__(self):
        self.status = 0
        self.sent_ns = 0
        self.head_ns = 0
        self.arrivals: list[int] = []     # ns, one per SSE event, in order
        self.done = False                 # saw `data: [DONE]`
        self.complete = False             # saw the chunked terminator
        self.content_events = 0
        self.error: str | None = None

    @property
    def ttfb_us(self) -> float:
        """Request sent → first SSE event received."""
        return (self.arrivals[0] - self.sent_ns) / 1000 if self.arrivals else float("nan")

    @property
    def head_us(self) -> float:
        return (self.head_ns - self.sent_ns) / 1000 if self.head_ns else float("nan")

    def gaps_us(self) -> list[float]:
        a = self.arrivals
        return [(a[i] - a[i - 1]) / 1000 for i in range(1, len(a))]


async def stream_once(port: int, body: bytes, auth: str | None, timeout: float = 120.0) -> StreamResult:
    res = StreamResult()
    try:
        await asyncio.wait_for(_stream(port, body, auth, res), timeout)
    except asyncio.TimeoutError:
        res.error = "timeout"
    except (OSError, ValueError, asyncio.IncompleteReadError) as e:
        res.error = f"{type(e).__name__}: {e}"
    return res


async def _stream(port: int, body: bytes, auth: str | None, res: StreamResult) -> None:
    reader, writer = await asyncio.open_connection(HOST, port, limit=1 << 20)
    try:
        sock = writer.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        lines = ["POST /v1/chat/completions HTTP/1.1", f"Host: {HOST}:{port}", "Content-Type: application/json",
                 "Accept: text/event-stream", f"Content-Length: {len(body)}"]
        if auth:
            lines.append(f"Authorization: Bearer {auth}")
        request = ("\r\n".join(lines) + "\r\n\r\n").encode() + body
        res.sent_ns = time.perf_counter_ns()
        writer.write(request)
        head = await reader.readuntil(b"\r\n\r\n")
        res.head_ns = time.perf_counter_ns()
        head_lines = head.decode("latin-1").split("\r\n")
        res.status = int(head_lines[0].split(" ")[1])
        chunked = any(l.lower().startswith("transfer-encoding:") and "chunked" in l.lower() for l in head_lines[1:])
        raw = b""        # undecoded transfer bytes
        sse = b""        # decoded body not yet split into events
        state, remaining = "size", 0
        while True:
            data = await reader.read(262144)
            now = time.perf_counter_ns()
            if not data:
                if not chunked:
                    res.complete = True
                break
            if chunked:
                raw += data
                while raw and not res.complete:
                    if state == "size":
                        i = raw.find(b"\r\n")
                        if i < 0:
                            break
                        remaining = int(raw[:i].split(b";")[0], 16)
                        raw = raw[i + 2:]
                        if remaining == 0:
                            res.complete = True
                        else:
                            state = "data"
                    elif state == "data":
                        take = raw[:remaining]
                        sse += take
                        raw = raw[len(take):]
                        remaining -= len(take)
                        if remaining == 0:
                            state = "crlf"
                    else:
                        if len(raw) < 2:
                            break
                        raw = raw[2:]
                        state = "size"
            else:
                sse += data
            while True:
                i = sse.find(b"\n\n")
                if i < 0:
                    break
                event, sse = sse[:i], sse[i + 2:]
                res.arrivals.append(now)
                if event.strip() == b"data: [DONE]":
                    res.done = True
                elif b'"content":"' in event and b'"role"' not in event:
                    res.content_events += 1
            if res.complete:
                break
    finally:
        writer.close()
        try:
            await writer.wait_closed()
        except OSError:
            pass


async def many_streams(port: int, body: bytes, auth: str | None, count: int,
                       timeout: float = 120.0, stagger_s: float = 0.0) -> list[StreamResult]:
    async def one(i: int) -> StreamResult:
        if stagger_s:
            await asyncio.sleep(i * stagger_s)
        return await stream_once(port, body, auth, timeout)
    return await asyncio.gather(*(one(i) for i in range(count)))


def run_streams(port: int, body: bytes, auth: str | None, count: int, timeout: float = 120.0,
                stagger_s: float = 0.0) -> list[StreamResult]:
    """`count` concurrent streams; with `stagger_s`, stream i starts i × stagger_s later, so the
    streams' chunks do not all arrive at the same instant (the timestamps stay per-event)."""
    return asyncio.run(many_streams(port, body, auth, count, timeout, stagger_s))
