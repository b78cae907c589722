#!/usr/bin/python3
"""WHIP publisher built on aiortc: a synthetic moving-gradient video track and a 440 Hz tone.

Usage: /usr/bin/python3 aiortc_publish.py SERVER_URL STREAM [--duration S] [--offer-only]
Prints JSON lines on stdout: offer, session (location, answer), progress, done.
Exit 0 when it published for the whole duration (or printed the offer with --offer-only)."""
import argparse
import asyncio
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
import numpy as np  # noqa: E402
from av import VideoFrame  # noqa: E402
from aiortc import RTCPeerConnection, RTCSessionDescription, VideoStreamTrack  # noqa: E402

from tone_track import ToneAudioTrack  # noqa: E402
from whip_http import WhipError, delete_session, emit, log, post_offer, set_token  # noqa: E402

WIDTH, HEIGHT = 640, 360


class GradientVideoTrack(VideoStreamTrack):
    """30 fps frames whose content moves every frame, so the encoder produces real deltas."""

    def __init__(self):
        super().__init__()
        self.count = 0
        x = np.arange(WIDTH, dtype=np.uint16)
        y = np.arange(HEIGHT, dtype=np.uint16)[:, None]
        self.base = (x + y).astype(np.uint16)

    async def recv(self):
        pts, time_base = await self.next_timestamp()
        shift = (self.count * 4) % 256
        img = np.empty((HEIGHT, WIDTH, 3), dtype=np.uint8)
        img[:, :, 0] = (self.base + shift) % 256
        img[:, :, 1] = (self.base * 2 + shift) % 256
        img[:, :, 2] = 128
        frame = VideoFrame.from_ndarray(img, format="rgb24")
        frame.pts, frame.time_base = pts, time_base
        self.count += 1
        return frame


async def run(args):
    pc = RTCPeerConnection()
    video = GradientVideoTrack()
    pc.addTransceiver(ToneAudioTrack(), direction="sendonly")
    pc.addTransceiver(video, direction="sendonly")
    # aiortc gathers all candidates inside setLocalDescription, so the offer is complete (no trickle).
    await pc.setLocalDescription(await pc.createOffer())
    offer = pc.localDescription.sdp
    emit("offer", sdp=offer)
    if args.offer_only:
        await pc.close()
        return 0

    try:
        location, etag, answer = post_offer(args.server_url, "whip", args.stream, offer)
    except WhipError as err:
        emit("error", status=err.status, body=err.body)
        await pc.close()
        return 2
    emit("session", location=location, etag=etag, answer=answer)
    await pc.setRemoteDescription(RTCSessionDescription(sdp=answer, type="answer"))

    deadline = time.monotonic() + args.duration
    while time.monotonic() < deadline:
        await asyncio.sleep(1.0)
        emit("progress", frames_generated=video.count, connection=pc.connectionState)
        if pc.connectionState == "failed":
            break
    ok = pc.connectionState == "connected"
    status = delete_session(location) if args.delete else None
    emit("done", ok=ok, frames_generated=video.count, connection=pc.connectionState, delete_status=status)
    await pc.close()
    return 0 if ok else 1


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("server_url")
    ap.add_argument("stream")
    ap.add_argument("--duration", type=float, default=20.0)
    ap.add_argument("--offer-only", action="store_true", help="print the offer and exit (no server needed)")
    ap.add_argument("--no-delete", dest="delete", action="store_false", help="do not DELETE the session at the end")
    ap.add_argument("--token", default=None, help="access token (Authorization: Bearer) for the POST")
    args = ap.parse_args()
    set_token(args.token)
    try:
        code = asyncio.run(asyncio.wait_for(run(args), args.duration + 30))
    except asyncio.TimeoutError:
        log("aiortc_publish: overall timeout")
        code = 3
    sys.exit(code)


if __name__ == "__main__":
    main()
