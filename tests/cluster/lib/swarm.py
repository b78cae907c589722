"""Shared parts of the many-clients-in-one-process aiortc scripts (aiortc_hosts.py, aiortc_viewers.py):
a control socket the Node test writes JSON-line commands to, and a small paced test-pattern track.

Many aiortc peers share one asyncio loop here because a Python process per peer would overload a
2-core machine. The blocking urllib WHIP/WHEP calls (interop lib/whip_http.py, which follows the
broker's 307) run in the default thread pool."""
import asyncio
import fractions
import json
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "interop", "lib"))

import numpy as np  # noqa: E402
from av import VideoFrame  # noqa: E402
from aiortc import MediaStreamTrack  # noqa: E402

from tone_track import ToneAudioTrack  # noqa: E402,F401 (re-exported for the host swarm)
from whip_http import emit, log  # noqa: E402,F401


async def serve_control(handle_command):
    """Listens on 127.0.0.1:<any>; every line received is a JSON command passed to handle_command
    (a coroutine function), run as its own task so a slow command does not block the next one.
    Prints {"event": "ready", "control_port": P}."""
    async def on_client(reader, writer):
        while True:
            line = await reader.readline()
            if not line:
                break
            try:
                cmd = json.loads(line)
            except ValueError:
                emit("bad_command", line=line.decode(errors="replace"))
                continue
            asyncio.ensure_future(_run_command(handle_command, cmd))
        writer.close()

    server = await asyncio.start_server(on_client, "127.0.0.1", 0)
    emit("ready", control_port=server.sockets[0].getsockname()[1], pid=os.getpid())
    return server


async def _run_command(handle_command, cmd):
    try:
        await handle_command(cmd)
    except Exception as err:  # report, never kill the loop
        emit("command_failed", cmd=cmd, error=f"{type(err).__name__}: {err}")


class PatternVideoTrack(MediaStreamTrack):
    """Small moving-gradient frames at `fps`, paced in real time (aiortc's VideoStreamTrack is fixed at 30 fps)."""
    kind = "video"
    CLOCK = 90000

    def __init__(self, width, height, fps):
        super().__init__()
        self.width, self.height, self.fps = width, height, fps
        self.count = 0
        self.start = None
        x = np.arange(width, dtype=np.uint16)
        y = np.arange(height, dtype=np.uint16)[:, None]
        self.base = (x + y).astype(np.uint16)

    async def recv(self):
        if self.start is None:
            self.start = time.monotonic()
        due = self.start + self.count / self.fps
        wait = due - time.monotonic()
        if wait > 0:
            await asyncio.sleep(wait)
        shift = (self.count * 4) % 256
        img = np.empty((self.height, self.width, 3), dtype=np.uint8)
        img[:, :, 0] = (self.base + shift) % 256
        img[:, :, 1] = (self.base * 2 + shift) % 256
        img[:, :, 2] = 128
        frame = VideoFrame.from_ndarray(img, format="rgb24")
        frame.pts = int(self.count * self.CLOCK / self.fps)
        frame.time_base = fractions.Fraction(1, self.CLOCK)
        self.count += 1
        return frame


def parse_size(text):
    w, h = text.lower().split("x")
    return int(w), int(h)
