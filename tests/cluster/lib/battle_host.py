#!/usr/bin/python3
"""One host of a battle for the regions experiment (bench/regions/run.sh --battle): publishes
(WHIP ?host=NAME, through a broker: follows its 307) a video whose frames carry their capture
time, watches its co-hosts on its own origin (WHEP ?exclude=NAME) and measures how long the
co-host's frames took to reach it: capture time stamped in the picture (wall clock, ms) to
decode time here. All network namespaces share one machine clock, so that is the one-way
delay host to host, encoder and decoder included. Runs inside `ip netns exec`: arguments in,
JSON lines out.

  battle_host.py BROKER_URL LIVE NAME [--duration 20] [--warmup 5] [--fps 15] [--timeout 30]

Frames of the first --warmup seconds after the co-host's first frame are not counted: a start
from the server's keyframe cache plays the last seconds fast (their capture times are old), and
the receivers' jitter buffers settle.

Events: published {location}, watching {location}, result {name, samples, one_way_ms: {p50,
p95, p99, max}, frames, bad_codes, publish_location, watch_location}, failed {stage, error}.

The time code: 24 bits of (wall-clock ms mod 2^24) as black/white blocks 12 px wide, in two
identical rows (a frame whose rows disagree after coding is not counted).
"""
import argparse
import asyncio
import fractions
import os
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "interop", "lib"))

import numpy as np  # noqa: E402
from av import VideoFrame  # noqa: E402
from aiortc import MediaStreamTrack, RTCPeerConnection, RTCSessionDescription  # noqa: E402
from aiortc.mediastreams import MediaStreamError  # noqa: E402
from whip_http import WhipError, delete_session, emit, post_offer_retrying  # noqa: E402

WIDTH, HEIGHT = 320, 240
BITS, BLOCK_W, ROW_H, ROWS_Y = 24, 12, 24, (48, 96)
MASK = (1 << BITS) - 1


def now_ms():
    return int(time.time() * 1000)


class TimeCodeTrack(MediaStreamTrack):
    """Grey frames at `fps` with the capture time as two rows of black/white blocks."""
    kind = "video"
    CLOCK = 90000

    def __init__(self, fps):
        super().__init__()
        self.fps = fps
        self.count = 0
        self.start = None

    async def recv(self):
        if self.start is None:
            self.start = time.monotonic()
        wait = self.start + self.count / self.fps - time.monotonic()
        if wait > 0:
            await asyncio.sleep(wait)
        code = now_ms() & MASK
        img = np.full((HEIGHT, WIDTH, 3), 128, dtype=np.uint8)
        for y in ROWS_Y:
            for bit in range(BITS):
                value = 255 if (code >> (BITS - 1 - bit)) & 1 else 0
                img[y:y + ROW_H, 16 + bit * BLOCK_W:16 + (bit + 1) * BLOCK_W] = value
        frame = VideoFrame.from_ndarray(img, format="rgb24")
        frame.pts = int(self.count * self.CLOCK / self.fps)
        frame.time_base = fractions.Fraction(1, self.CLOCK)
        self.count += 1
        return frame


def read_code(img):
    """The time code of a decoded frame, or None when its two rows disagree (or it is not ours)."""
    rows = []
    for y in ROWS_Y:
        code = 0
        for bit in range(BITS):
            x = 16 + bit * BLOCK_W + BLOCK_W // 2
            patch = img[y + ROW_H // 2 - 3:y + ROW_H // 2 + 3, x - 2:x + 2]
            code = (code << 1) | (1 if patch.mean() > 128 else 0)
        rows.append(code)
    return rows[0] if rows[0] == rows[1] else None


def percentile(values, p):
    s = sorted(values)
    return s[min(len(s) - 1, int(round(p / 100 * (len(s) - 1))))]


async def watch(track, samples, counts, warmup, duration):
    until = counted_from = None
    while until is None or time.monotonic() < until:
        try:
            left = 30 if until is None else max(0.1, until - time.monotonic())
            frame = await asyncio.wait_for(track.recv(), left)
        except (MediaStreamError, asyncio.TimeoutError):
            return
        arrived = now_ms() & MASK
        if until is None:
            counted_from = time.monotonic() + warmup
            until = counted_from + duration
        if time.monotonic() < counted_from:
            continue
        if frame.width != WIDTH or frame.height != HEIGHT:
            continue
        counts["frames"] += 1
        code = read_code(frame.to_ndarray(format="rgb24"))
        if code is None:
            counts["bad_codes"] += 1
            continue
        delay = (arrived - code) & MASK
        if delay < 10000:  # a stale or misread code would read as hours
            samples.append(delay)
        else:
            counts["bad_codes"] += 1


async def negotiate(pc, args, kind, query, deadline):
    """Offer, POST through the broker (retrying 409), apply the answer: the session URL, or None
    after a `failed` event."""
    await pc.setLocalDescription(await pc.createOffer())
    try:
        location, _, answer = await asyncio.get_running_loop().run_in_executor(
            None, post_offer_retrying, args.broker_url, kind, args.live, pc.localDescription.sdp, deadline,
            time.monotonic, query)
    except (WhipError, OSError) as err:
        emit("failed", stage=kind, error=str(err)[:300])
        return None
    await pc.setRemoteDescription(RTCSessionDescription(sdp=answer, type="answer"))
    return location


async def run(args):
    loop = asyncio.get_running_loop()
    deadline = time.monotonic() + args.timeout
    pub = RTCPeerConnection()
    pub.addTransceiver(TimeCodeTrack(args.fps), direction="sendonly")
    pub_loc = await negotiate(pub, args, "whip", f"host={args.name}", deadline)
    if not pub_loc:
        return 1
    emit("published", location=pub_loc)

    view = RTCPeerConnection()
    view.addTransceiver("video", direction="recvonly")
    tracks = asyncio.Queue()
    view.on("track", lambda t: tracks.put_nowait(t) if t.kind == "video" else None)
    view_loc = await negotiate(view, args, "whep", f"exclude={args.name}", deadline)
    if not view_loc:
        return 1
    emit("watching", location=view_loc)
    track = await asyncio.wait_for(tracks.get(), args.timeout)
    samples, counts = [], {"frames": 0, "bad_codes": 0}
    await watch(track, samples, counts, args.warmup, args.duration)
    result = dict(name=args.name, samples=len(samples), frames=counts["frames"], bad_codes=counts["bad_codes"],
                  publish_location=pub_loc, watch_location=view_loc)
    if samples:
        result["one_way_ms"] = {"p50": statistics.median(samples), "p95": percentile(samples, 95),
                                "p99": percentile(samples, 99), "max": max(samples)}
    emit("result", **result)
    await asyncio.sleep(3)  # the co-host may still be measuring: keep sending a little longer
    for loc in (view_loc, pub_loc):
        await loop.run_in_executor(None, delete_session, loc, 2)
    await view.close()
    await pub.close()
    return 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("broker_url")
    ap.add_argument("live")
    ap.add_argument("name")
    ap.add_argument("--duration", type=float, default=20)
    ap.add_argument("--warmup", type=float, default=5)
    ap.add_argument("--fps", type=float, default=15)
    ap.add_argument("--timeout", type=float, default=30)
    sys.exit(asyncio.run(run(ap.parse_args())))


if __name__ == "__main__":
    main()
