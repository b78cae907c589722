#!/usr/bin/python3
"""WHEP viewer built on aiortc: counts decoded video frames (and audio frames).

Usage: /usr/bin/python3 aiortc_view.py SERVER_URL STREAM [--frames M] [--timeout S] [--duration S] [--offer-only]
Retries the POST while the server answers 409 (stream not live yet). Prints JSON lines: offer,
session, first_frame, progress (every 0.5 s), done. Exit 0 if >= M video frames were decoded
within the timeout (with --duration, keeps counting until that many seconds after the first frame)."""
import argparse
import asyncio
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
from aiortc import RTCPeerConnection, RTCSessionDescription  # noqa: E402
from aiortc.mediastreams import MediaStreamError  # noqa: E402

from whip_http import WhipError, delete_session, emit, log, post_offer_retrying, set_token  # noqa: E402


class Counter:
    def __init__(self):
        self.video = 0
        self.audio = 0
        self.width = 0
        self.height = 0
        self.first_frame_at = None
        self.ended = set()  # kinds whose track ended (RTCP BYE stops aiortc's decoder)


async def consume(track, counter, t0):
    try:
        while True:
            frame = await track.recv()  # aiortc returns decoded frames (av.VideoFrame / av.AudioFrame)
            if track.kind == "video":
                counter.video += 1
                counter.width, counter.height = frame.width, frame.height
                if counter.first_frame_at is None:
                    counter.first_frame_at = time.monotonic()
                    emit("first_frame", after_answer_ms=round((counter.first_frame_at - t0) * 1000),
                         width=frame.width, height=frame.height)
            else:
                counter.audio += 1
    except MediaStreamError:
        counter.ended.add(track.kind)
        emit("track_ended", kind=track.kind)


async def run(args):
    start = time.monotonic()
    pc = RTCPeerConnection()
    pc.addTransceiver("audio", direction="recvonly")
    pc.addTransceiver("video", direction="recvonly")
    counter = Counter()
    tasks = []
    t0 = [start]

    @pc.on("track")
    def on_track(track):
        tasks.append(asyncio.ensure_future(consume(track, counter, t0[0])))

    await pc.setLocalDescription(await pc.createOffer())
    offer = pc.localDescription.sdp
    emit("offer", sdp=offer)
    if args.offer_only:
        await pc.close()
        return 0

    deadline = start + args.timeout
    try:
        location, etag, answer = await asyncio.get_running_loop().run_in_executor(
            None, post_offer_retrying, args.server_url, "whep", args.stream, offer, deadline, time.monotonic)
    except WhipError as err:
        emit("error", status=err.status, body=err.body)
        await pc.close()
        return 2
    emit("session", location=location, etag=etag, answer=answer)
    t0[0] = time.monotonic()
    await pc.setRemoteDescription(RTCSessionDescription(sdp=answer, type="answer"))

    while time.monotonic() < deadline:
        await asyncio.sleep(0.5)
        emit("progress", video_frames=counter.video, audio_frames=counter.audio,
             width=counter.width, height=counter.height, connection=pc.connectionState)
        if pc.connectionState == "failed":
            break
        enough = counter.video >= args.frames
        if args.wait_ended:
            if enough and not counter.__dict__.get("announced"):
                counter.announced = True
                emit("watching", video_frames=counter.video)
            if {"audio", "video"} <= counter.ended:
                break
            continue
        if enough and (args.duration is None or time.monotonic() - counter.first_frame_at >= args.duration):
            break
    ok = counter.video >= args.frames
    if args.wait_ended:
        ok = ok and {"audio", "video"} <= counter.ended
    status = delete_session(location)
    emit("done", ok=ok, video_frames=counter.video, audio_frames=counter.audio,
         width=counter.width, height=counter.height, delete_status=status, ended=sorted(counter.ended))
    for t in tasks:
        t.cancel()
    await pc.close()
    return 0 if ok else 1


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("server_url")
    ap.add_argument("stream")
    ap.add_argument("--frames", type=int, default=60, help="video frames that must be decoded")
    ap.add_argument("--timeout", type=float, default=30.0, help="seconds from start to reach --frames")
    ap.add_argument("--duration", type=float, default=None, help="keep counting this long after the first frame")
    ap.add_argument("--wait-ended", action="store_true",
                    help="after --frames, keep watching until the server ends both tracks (RTCP BYE)")
    ap.add_argument("--offer-only", action="store_true", help="print the offer and exit (no server needed)")
    ap.add_argument("--token", default=None, help="access token (Authorization: Bearer) for the POST")
    args = ap.parse_args()
    set_token(args.token)
    try:
        code = asyncio.run(asyncio.wait_for(run(args), args.timeout + 15))
    except asyncio.TimeoutError:
        log("aiortc_view: overall timeout")
        code = 3
    sys.exit(code)


if __name__ == "__main__":
    main()
