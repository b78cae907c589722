#!/usr/bin/python3
"""Many aiortc WHEP viewers in one process (one asyncio loop), each counting decoded video frames,
driven by JSON-line commands on a control socket (see lib/swarm.py).

Usage: /usr/bin/python3 aiortc_viewers.py BROKER_URL [--report 0.5]
Commands:
  {"cmd": "add", "id": V, "stream": S, "timeout_s": 20}  WHEP through the broker (follows 307; retries
                                                          404/409 until timeout_s).
  {"cmd": "reconnect", "id": V, "timeout_s": 20}          drop V's PeerConnection (best-effort DELETE)
                                                          and WHEP again for the same stream.
  {"cmd": "close", "id": V}                               DELETE and close.
Events: ready, session {id, stream, location, gen}, first_frame {id, gen, ms_since_cmd, ms_since_answer},
track_ended {id, gen, kind}, whep_failed {id, status}, closed {id, status},
frames {viewers: {V: [video_frames, connection_state, location, gen, ended]}} every --report seconds."""
import argparse
import asyncio
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
from swarm import emit, serve_control  # noqa: E402
from aiortc import RTCPeerConnection, RTCSessionDescription  # noqa: E402
from aiortc.mediastreams import MediaStreamError  # noqa: E402
from whip_http import WhipError, delete_session, post_offer_retrying  # noqa: E402


class Viewer:
    def __init__(self, vid, stream):
        self.id, self.stream = vid, stream
        self.pc = None
        self.location = None
        self.gen = 0          # bumped on every (re)connect; frames keep counting across generations
        self.frames = 0
        self.ended = False
        self.tasks = []


class Viewers:
    def __init__(self, args):
        self.args = args
        self.viewers = {}

    async def consume(self, v, track, gen, t_cmd, t_answer):
        first = True
        try:
            while True:
                await track.recv()
                if gen != v.gen:
                    return
                v.frames += 1
                if first:
                    first = False
                    now = time.monotonic()
                    emit("first_frame", id=v.id, gen=gen, ms_since_cmd=round((now - t_cmd) * 1000),
                         ms_since_answer=round((now - t_answer[0]) * 1000))
        except MediaStreamError:
            if gen == v.gen:
                v.ended = True
                emit("track_ended", id=v.id, gen=gen, kind=track.kind)

    async def connect(self, v, timeout_s):
        t_cmd = time.monotonic()
        v.gen += 1
        v.ended = False
        gen = v.gen
        pc = RTCPeerConnection()
        v.pc = pc
        pc.addTransceiver("video", direction="recvonly")
        t_answer = [t_cmd]

        @pc.on("track")
        def on_track(track):
            v.tasks.append(asyncio.ensure_future(self.consume(v, track, gen, t_cmd, t_answer)))

        await pc.setLocalDescription(await pc.createOffer())
        loop = asyncio.get_running_loop()
        try:
            location, _etag, answer = await loop.run_in_executor(
                None, post_offer_retrying, self.args.broker_url, "whep", v.stream, pc.localDescription.sdp,
                t_cmd + timeout_s, time.monotonic)
        except (WhipError, OSError) as err:
            emit("whep_failed", id=v.id, gen=gen, status=getattr(err, "status", None), error=str(err)[:300])
            return
        if gen != v.gen:
            await pc.close()
            return
        v.location = location
        emit("session", id=v.id, stream=v.stream, location=location, gen=gen,
             ms=round((time.monotonic() - t_cmd) * 1000))
        t_answer[0] = time.monotonic()
        await pc.setRemoteDescription(RTCSessionDescription(sdp=answer, type="answer"))

    def detach(self, v):
        """Takes V's current connection away from it (synchronously, so a reconnect cannot race it)."""
        old = (v.pc, v.location, v.tasks)
        v.pc, v.location, v.tasks = None, None, []
        for t in old[2]:
            t.cancel()
        return old

    async def drop(self, old, send_delete):
        old_pc, old_loc, _tasks = old
        status = None
        if send_delete and old_loc:
            status = await asyncio.get_running_loop().run_in_executor(None, delete_session, old_loc, 2)
        if old_pc:
            await old_pc.close()
        return status

    async def command(self, cmd):
        kind = cmd.get("cmd")
        timeout_s = float(cmd.get("timeout_s", 20))
        if kind == "add":
            v = Viewer(cmd["id"], cmd["stream"])
            self.viewers[v.id] = v
            await self.connect(v, timeout_s)
        elif kind == "reconnect":
            v = self.viewers[cmd["id"]]
            v.gen += 1  # stale frames of the old connection stop counting right away
            asyncio.ensure_future(self.drop(self.detach(v), send_delete=True))
            await self.connect(v, timeout_s)
        elif kind == "close":
            v = self.viewers.pop(cmd["id"])
            v.gen += 1
            emit("closed", id=v.id, status=await self.drop(self.detach(v), send_delete=True))
        else:
            emit("bad_command", cmd=cmd)

    async def report(self):
        while True:
            await asyncio.sleep(self.args.report)
            emit("frames", viewers={v.id: [v.frames, v.pc.connectionState if v.pc else "none", v.location, v.gen, v.ended]
                                    for v in self.viewers.values()})


async def run(args):
    viewers = Viewers(args)
    server = await serve_control(viewers.command)
    reporter = asyncio.ensure_future(viewers.report())
    try:
        await asyncio.sleep(args.lifetime)
    finally:
        reporter.cancel()
        server.close()
        for v in list(viewers.viewers.values()):
            await viewers.drop(viewers.detach(v), send_delete=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("broker_url")
    ap.add_argument("--report", type=float, default=0.5, help="seconds between frames events")
    ap.add_argument("--lifetime", type=float, default=600.0, help="exit after this many seconds")
    args = ap.parse_args()
    asyncio.run(run(args))


if __name__ == "__main__":
    main()
