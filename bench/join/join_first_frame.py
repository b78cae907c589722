#!/usr/bin/python3
"""Join measurement: an aiortc host (its VP8 encoder makes a keyframe only on request) goes
live, and after --live-for seconds N aiortc viewers join --gap seconds apart. For each
viewer: ms from the start of its WHEP POST to its first decoded video frame. The host's
keyframe requests are read from the server's /metrics (strata_keyframe_requests_out_total,
PLIs the server sent to hosts) along with the keyframe cache's replays.

Usage: /usr/bin/python3 join_first_frame.py SERVER_URL [--viewers 10] [--gap 0.3] [--live-for 4]
Prints one JSON line: first_frame_ms (sorted), p50, max, keyframe_requests, cache_replays."""
import argparse
import asyncio
import json
import os
import sys
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tests", "interop"))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tests", "interop", "lib"))
from aiortc import RTCPeerConnection, RTCSessionDescription  # noqa: E402
from aiortc_publish import GradientVideoTrack  # noqa: E402
from whip_http import post_offer  # noqa: E402


def metric(server_url, name):
    text = urllib.request.urlopen(server_url + "/metrics", timeout=5).read().decode()
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    return 0.0


async def view(server_url, stream):
    pc = RTCPeerConnection()
    pc.addTransceiver("video", direction="recvonly")
    first = asyncio.get_running_loop().create_future()

    @pc.on("track")
    def on_track(track):
        async def consume():
            try:
                while True:
                    await track.recv()
                    if not first.done():
                        first.set_result(time.monotonic())
            except Exception:  # the track ends when the viewer closes
                pass
        asyncio.ensure_future(consume())

    await pc.setLocalDescription(await pc.createOffer())
    t0 = time.monotonic()
    loop = asyncio.get_running_loop()
    _, _, answer = await loop.run_in_executor(None, post_offer, server_url, "whep", stream, pc.localDescription.sdp)
    await pc.setRemoteDescription(RTCSessionDescription(sdp=answer, type="answer"))
    at = await asyncio.wait_for(first, 15)
    return pc, round((at - t0) * 1000)


async def main_async(args):
    host = RTCPeerConnection()
    host.addTransceiver(GradientVideoTrack(), direction="sendonly")
    await host.setLocalDescription(await host.createOffer())
    loop = asyncio.get_running_loop()
    _, _, answer = await loop.run_in_executor(None, post_offer, args.server_url, "whip", args.stream,
                                              host.localDescription.sdp)
    await host.setRemoteDescription(RTCSessionDescription(sdp=answer, type="answer"))
    await asyncio.sleep(args.live_for)
    plis0 = metric(args.server_url, "strata_keyframe_requests_out_total")
    replays0 = metric(args.server_url, "strata_keyframe_cache_replays_total")
    tasks = []
    for _ in range(args.viewers):
        tasks.append(asyncio.ensure_future(view(args.server_url, args.stream)))
        await asyncio.sleep(args.gap)
    results = await asyncio.gather(*tasks)
    await asyncio.sleep(1.0)  # a late request still counts
    ms = sorted(r[1] for r in results)
    out = {"viewers": args.viewers, "gap_s": args.gap, "live_for_s": args.live_for, "first_frame_ms": ms,
           "p50": ms[len(ms) // 2], "max": ms[-1],
           "keyframe_requests": int(metric(args.server_url, "strata_keyframe_requests_out_total") - plis0),
           "cache_replays": int(metric(args.server_url, "strata_keyframe_cache_replays_total") - replays0)}
    print(json.dumps(out), flush=True)
    for pc, _ in results:
        await pc.close()
    await host.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("server_url")
    ap.add_argument("--stream", default="join")
    ap.add_argument("--viewers", type=int, default=10)
    ap.add_argument("--gap", type=float, default=0.3)
    ap.add_argument("--live-for", type=float, default=4.0)
    args = ap.parse_args()
    asyncio.run(main_async(args))


if __name__ == "__main__":
    main()
