#!/usr/bin/python3
"""Many aiortc WHIP hosts in one process, driven by JSON-line commands on a control socket.

Usage: /usr/bin/python3 aiortc_hosts.py BROKER_URL [--size 160x120] [--fps 10]
Commands (one JSON object per line on the control socket, see lib/swarm.py):
  {"cmd": "publish", "stream": S, "retry_s": 0, "audio": false}  WHIP through the broker (follows 307); with retry_s,
                                                 retries refused connections / 409 / 5xx that long.
                                                 "audio": also send a 440 Hz Opus tone. Replaces (closes, no DELETE) a previous host of S.
  {"cmd": "delete", "stream": S}                 DELETE the session, close the PeerConnection.
  {"cmd": "drop", "stream": S}                   close the PeerConnection without DELETE.
Events (JSON lines on stdout): ready, published {stream, location, ms, attempts}, publish_failed,
deleted {stream, status}, hosts {streams: {S: {frames, state}}} every second."""
import argparse
import asyncio
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
from swarm import PatternVideoTrack, ToneAudioTrack, emit, parse_size, serve_control  # noqa: E402
from aiortc import RTCPeerConnection, RTCSessionDescription  # noqa: E402
from whip_http import WhipError, delete_session, post_offer  # noqa: E402


class Host:
    def __init__(self, stream, pc, track):
        self.stream, self.pc, self.track = stream, pc, track
        self.location = None


class Hosts:
    def __init__(self, args):
        self.args = args
        self.hosts = {}

    async def publish(self, stream, retry_s=0.0, audio=False):
        t0 = time.monotonic()
        old = self.hosts.pop(stream, None)
        if old:
            await old.pc.close()
        pc = RTCPeerConnection()
        track = PatternVideoTrack(*self.args.size, self.args.fps)
        if audio:
            pc.addTransceiver(ToneAudioTrack(), direction="sendonly")
        pc.addTransceiver(track, direction="sendonly")
        await pc.setLocalDescription(await pc.createOffer())
        offer = pc.localDescription.sdp
        loop = asyncio.get_running_loop()
        attempts = 0
        while True:
            attempts += 1
            try:
                location, _etag, answer = await loop.run_in_executor(
                    None, post_offer, self.args.broker_url, "whip", stream, offer)
                break
            except (WhipError, OSError) as err:
                status = getattr(err, "status", None)
                retryable = status is None or status == 409 or status >= 500
                if not retryable or time.monotonic() - t0 >= retry_s:
                    emit("publish_failed", stream=stream, status=status, error=str(err)[:300], attempts=attempts)
                    await pc.close()
                    return
                await asyncio.sleep(0.25)
        host = Host(stream, pc, track)
        host.location = location
        self.hosts[stream] = host
        await pc.setRemoteDescription(RTCSessionDescription(sdp=answer, type="answer"))
        emit("published", stream=stream, location=location, attempts=attempts,
             ms=round((time.monotonic() - t0) * 1000))

    async def delete(self, stream, send_delete=True):
        host = self.hosts.pop(stream, None)
        if not host:
            emit("deleted", stream=stream, status=None)
            return
        status = None
        if send_delete:
            status = await asyncio.get_running_loop().run_in_executor(None, delete_session, host.location)
        await host.pc.close()
        emit("deleted", stream=stream, status=status, sent=send_delete)

    async def command(self, cmd):
        kind = cmd.get("cmd")
        if kind == "publish":
            await self.publish(cmd["stream"], float(cmd.get("retry_s", 0)), bool(cmd.get("audio", False)))
        elif kind == "delete":
            await self.delete(cmd["stream"])
        elif kind == "drop":
            await self.delete(cmd["stream"], send_delete=False)
        else:
            emit("bad_command", cmd=cmd)

    async def report(self):
        while True:
            await asyncio.sleep(1.0)
            emit("hosts", streams={s: {"frames": h.track.count, "state": h.pc.connectionState}
                                   for s, h in self.hosts.items()})


async def run(args):
    hosts = Hosts(args)
    server = await serve_control(hosts.command)
    reporter = asyncio.ensure_future(hosts.report())
    try:
        await asyncio.sleep(args.lifetime)
    finally:
        reporter.cancel()
        server.close()
        for stream in list(hosts.hosts):
            await hosts.delete(stream)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("broker_url")
    ap.add_argument("--size", type=parse_size, default=(160, 120))
    ap.add_argument("--fps", type=float, default=10.0)
    ap.add_argument("--lifetime", type=float, default=600.0, help="exit after this many seconds")
    args = ap.parse_args()
    asyncio.run(run(args))


if __name__ == "__main__":
    main()
