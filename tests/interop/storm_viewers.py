#!/usr/bin/python3
"""N aiortc WHEP viewers in one process (one asyncio loop) that all join at once, each counting
decoded video frames. Used by keyframe_storm.test.mjs.

Usage: /usr/bin/python3 storm_viewers.py SERVER_URL STREAM [--count 50] [--layer q] [--report 0.5]
Joins immediately: all N offers are created first, then POSTed concurrently (one thread each), so the
server sees the N joins within a few milliseconds of each other.
Events (JSON lines on stdout): offers_ready {count, ms}, session {id, ms}, whep_failed {id, status,
error}, first_frame {id, ms_since_answer}, frames {counts: [N ints], states: [N strings]} every --report s."""
import argparse
import asyncio
import os
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
from whip_http import emit, log  # noqa: E402
from aiortc import RTCPeerConnection, RTCSessionDescription  # noqa: E402
from aiortc.mediastreams import MediaStreamError  # noqa: E402


def post_whep(server_url, stream, layer, sdp, timeout=15):
    """POST the offer to /whep/STREAM?layer=L; returns (status, location, body)."""
    query = f"?layer={urllib.parse.quote(layer)}" if layer else ""
    url = urllib.parse.urljoin(server_url, f"/whep/{urllib.parse.quote(stream, safe='')}{query}")
    req = urllib.request.Request(url, data=sdp.encode(), method="POST", headers={"Content-Type": "application/sdp"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as res:
            return res.status, urllib.parse.urljoin(url, res.headers.get("Location") or ""), res.read().decode()
    except urllib.error.HTTPError as err:
        return err.code, None, err.read().decode(errors="replace")


def delete(location):
    try:
        urllib.request.urlopen(urllib.request.Request(location, method="DELETE"), timeout=3).read()
    except (urllib.error.URLError, OSError):
        pass


class Storm:
    def __init__(self, args):
        self.args = args
        self.pcs = []
        self.frames = [0] * args.count
        self.locations = [None] * args.count
        self.tasks = []

    async def consume(self, i, slot, track, t_answer):
        """Counts viewer i's decoded frames (all slots); first_frame once per slot."""
        first = True
        try:
            while True:
                await track.recv()
                self.frames[i] += 1
                if first:
                    first = False
                    emit("first_frame", id=i, slot=slot, ms_since_answer=round((time.monotonic() - t_answer) * 1000))
        except MediaStreamError:
            pass

    async def join_all(self):
        t0 = time.monotonic()
        for i in range(self.args.count):
            pc = RTCPeerConnection()
            for _ in range(self.args.slots):  # one slot per recvonly video m-line
                pc.addTransceiver("video", direction="recvonly")
            self.pcs.append(pc)
        offers = await asyncio.gather(*(self.offer(pc) for pc in self.pcs))
        emit("offers_ready", count=len(offers), ms=round((time.monotonic() - t0) * 1000))
        loop = asyncio.get_running_loop()
        pool = ThreadPoolExecutor(max_workers=self.args.count)
        t1 = time.monotonic()
        answers = await asyncio.gather(*(
            loop.run_in_executor(pool, post_whep, self.args.server_url, self.args.stream, self.args.layer, sdp)
            for sdp in offers))
        emit("posted", count=len(answers), ms=round((time.monotonic() - t1) * 1000))
        for i, (status, location, body) in enumerate(answers):
            if status != 201:
                emit("whep_failed", id=i, status=status, error=body[:300])
                continue
            self.locations[i] = location
            pc = self.pcs[i]
            t_answer = time.monotonic()

            slots = iter(range(self.args.slots))

            @pc.on("track")
            def on_track(track, i=i, t_answer=t_answer, slots=slots):
                if track.kind == "video":
                    self.tasks.append(asyncio.ensure_future(self.consume(i, next(slots, -1), track, t_answer)))

            await pc.setRemoteDescription(RTCSessionDescription(sdp=body, type="answer"))
            emit("session", id=i, ms=round((time.monotonic() - t1) * 1000))

    @staticmethod
    async def offer(pc):
        await pc.setLocalDescription(await pc.createOffer())
        return pc.localDescription.sdp

    async def report(self):
        while True:
            await asyncio.sleep(self.args.report)
            emit("frames", counts=self.frames, states=[pc.connectionState for pc in self.pcs])

    async def close(self):
        for t in self.tasks:
            t.cancel()
        loop = asyncio.get_running_loop()
        await asyncio.gather(*(loop.run_in_executor(None, delete, loc) for loc in self.locations if loc))
        await asyncio.gather(*(pc.close() for pc in self.pcs), return_exceptions=True)


async def run(args):
    storm = Storm(args)
    reporter = asyncio.ensure_future(storm.report())
    try:
        await storm.join_all()
        await asyncio.sleep(args.lifetime)
    finally:
        reporter.cancel()
        await storm.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("server_url")
    ap.add_argument("stream")
    ap.add_argument("--count", type=int, default=50)
    ap.add_argument("--layer", default="q")
    ap.add_argument("--slots", type=int, default=1, help="video slots (m-lines) per viewer")
    ap.add_argument("--report", type=float, default=0.5)
    ap.add_argument("--lifetime", type=float, default=120.0, help="exit after this many seconds")
    args = ap.parse_args()
    try:
        asyncio.run(run(args))
    except KeyboardInterrupt:
        log("interrupted")


if __name__ == "__main__":
    main()
