#!/usr/bin/python3
"""aiortc clients for the region test (tests/cluster/regions.test.mjs) and the regions experiment
(bench/regions/run.sh). Runs inside a network namespace (ip netns exec), so it has no control socket:
arguments in, JSON lines out (one object per line on stdout), exit when done.

  regions_clients.py host BROKER_URL STREAM [--size 320x240] [--fps 15] [--retry-s 20]
      WHIP through the broker (follows its 307), then keeps sending until SIGTERM/SIGINT.
      Events: published {stream, location, ms}, publish_failed {status, error}.

  regions_clients.py viewers BROKER_URL STREAM --count N [--duration 20] [--spread-s 5]
      N WHEP viewers (started evenly over --spread-s seconds), each watched for --duration seconds
      after its first frame. Per viewer, event `viewer`:
        connect_ms    WHEP POST (first request to the broker) → first decoded video frame; its phases
                      answer_ms, connected_ms (ICE + DTLS up), first_packet_ms (first video RTP)
        location      the session URL (which node served it)
        rtt_ms        median viewer↔server round trip from RTCP: every sender report's NTP time is
                      compared with the local wall clock on arrival (all namespaces share one
                      machine clock, so this is the exact one-way delay server → viewer), × 2; it
                      includes this process's event-loop lag, which rtt_min_ms (the smallest sample,
                      × 2) mostly filters out
        loss_pct      packets of the video SSRC never received, retransmissions included (what the
                      decoder saw), over the sequence range received
        loss_raw_pct  the same before retransmission (media packets as first received, RTX not counted)
        expected, lost, raw_expected, raw_lost: the packet counts behind the two (pooled by table.py)
        frames        decoded video frames
      then `summary` {count, ok, failed}.
"""
import argparse
import asyncio
import os
import signal
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "..", "interop", "lib"))

from swarm import PatternVideoTrack, emit, parse_size  # noqa: E402
from aiortc import RTCPeerConnection, RTCSessionDescription  # noqa: E402
from aiortc.codecs import is_rtx  # noqa: E402
from aiortc.mediastreams import MediaStreamError  # noqa: E402
from aiortc.rtp import RtcpSrPacket  # noqa: E402
from whip_http import WhipError, delete_session, post_offer, post_offer_retrying  # noqa: E402

NTP_UNIX_OFFSET = 2208988800


def ntp_to_unix(ntp):
    return (ntp >> 32) - NTP_UNIX_OFFSET + (ntp & 0xFFFFFFFF) / 2**32


class SeqTracker:
    """Unique RTP sequence numbers seen (after RTX unwrap), with 16-bit wrap handled."""

    def __init__(self):
        self.seen = set()
        self.highest = None
        self.lowest = None

    def add(self, seq):
        if self.highest is None:
            ext = seq
            self.lowest = self.highest = ext
        else:
            delta = (seq - (self.highest & 0xFFFF) + 0x8000) % 0x10000 - 0x8000
            ext = self.highest + delta
            self.highest = max(self.highest, ext)
            self.lowest = min(self.lowest, ext)
        self.seen.add(ext)

    def expected(self):
        return 0 if self.highest is None else self.highest - self.lowest + 1

    def lost(self):
        return max(0, self.expected() - len(self.seen))

    def loss(self):
        return self.lost() / self.expected() if self.expected() else None


class Viewer:
    def __init__(self, vid):
        self.id = vid
        self.pc = None
        self.location = None
        self.first_frame_at = None
        self.t_post = None
        self.frames = 0
        self.one_way = []
        self.seqs = SeqTracker()       # media packets reaching the jitter buffer (RTX unwrapped)
        self.raw_seqs = SeqTracker()   # media packets as first sent (RTX not counted)
        self.t_answer = self.t_connected = self.t_first_packet = None

    def instrument(self, receiver):
        """Hooks the receiver: sender reports (one-way delay) and packets reaching the jitter
        buffer (after RTX unwrap), without changing what aiortc does with them."""
        handle_rtcp = receiver._handle_rtcp_packet

        async def on_rtcp(packet):
            if isinstance(packet, RtcpSrPacket):
                self.one_way.append(time.time() - ntp_to_unix(packet.sender_info.ntp_timestamp))
            return await handle_rtcp(packet)

        receiver._handle_rtcp_packet = on_rtcp
        handle_rtp = receiver._handle_rtp_packet
        codecs = getattr(receiver, "_RTCRtpReceiver__codecs", {})

        async def on_rtp(packet, arrival_time_ms):
            codec = codecs.get(packet.payload_type)
            if codec is not None and not is_rtx(codec) and codec.mimeType.lower().startswith("video/"):
                self.raw_seqs.add(packet.sequence_number)
            return await handle_rtp(packet, arrival_time_ms=arrival_time_ms)

        receiver._handle_rtp_packet = on_rtp
        jb = getattr(receiver, "_RTCRtpReceiver__jitter_buffer", None)
        if jb is not None:
            add = jb.add

            def on_packet(packet):
                if self.t_first_packet is None:
                    self.t_first_packet = time.monotonic()
                self.seqs.add(packet.sequence_number)
                return add(packet)

            jb.add = on_packet


async def consume(v, track, done):
    try:
        while True:
            await track.recv()
            v.frames += 1
            if v.first_frame_at is None:
                v.first_frame_at = time.monotonic()
                done.set()
    except MediaStreamError:
        pass


async def run_viewer(args, vid, delay):
    await asyncio.sleep(delay)
    v = Viewer(vid)
    pc = RTCPeerConnection()
    v.pc = pc
    pc.addTransceiver("video", direction="recvonly")
    done = asyncio.Event()
    tasks = []

    @pc.on("connectionstatechange")
    def on_state():
        if pc.connectionState == "connected" and v.t_connected is None:
            v.t_connected = time.monotonic()

    @pc.on("track")
    def on_track(track):
        if track.kind == "video":
            tasks.append(asyncio.ensure_future(consume(v, track, done)))

    await pc.setLocalDescription(await pc.createOffer())
    loop = asyncio.get_running_loop()
    v.t_post = time.monotonic()
    try:
        location, _etag, answer = await loop.run_in_executor(
            None, post_offer_retrying, args.broker_url, "whep", args.stream, pc.localDescription.sdp,
            v.t_post + args.timeout, time.monotonic)
    except (WhipError, OSError) as err:
        emit("viewer_failed", id=vid, stage="whep", status=getattr(err, "status", None), error=str(err)[:300])
        await pc.close()
        return None
    v.location = location
    v.t_answer = time.monotonic()
    await pc.setRemoteDescription(RTCSessionDescription(sdp=answer, type="answer"))
    for receiver in pc.getReceivers():
        v.instrument(receiver)
    try:
        await asyncio.wait_for(done.wait(), args.timeout)
    except asyncio.TimeoutError:
        emit("viewer_failed", id=vid, stage="first_frame", location=location)
        await close_viewer(v, tasks)
        return None
    connect_ms = (v.first_frame_at - v.t_post) * 1000
    since_post = lambda t: round((t - v.t_post) * 1000, 1) if t is not None else None  # noqa: E731
    phases = dict(answer_ms=since_post(v.t_answer), connected_ms=since_post(v.t_connected),
                  first_packet_ms=since_post(v.t_first_packet))
    emit("first_frame", id=vid, connect_ms=round(connect_ms, 1), location=location)
    await asyncio.sleep(args.duration)
    rtt = 2000 * statistics.median(v.one_way) if v.one_way else None
    rtt_min = 2000 * min(v.one_way) if v.one_way else None
    loss, loss_raw = v.seqs.loss(), v.raw_seqs.loss()
    result = dict(id=vid, connect_ms=round(connect_ms, 1), location=location,
                  rtt_ms=round(rtt, 2) if rtt is not None else None,
                  rtt_min_ms=round(rtt_min, 2) if rtt_min is not None else None,
                  loss_pct=round(100 * loss, 3) if loss is not None else None,
                  loss_raw_pct=round(100 * loss_raw, 3) if loss_raw is not None else None,
                  frames=v.frames, sr_samples=len(v.one_way), expected=v.seqs.expected(), lost=v.seqs.lost(),
                  raw_expected=v.raw_seqs.expected(), raw_lost=v.raw_seqs.lost(), **phases)
    emit("viewer", **result)
    await close_viewer(v, tasks)
    return result


async def close_viewer(v, tasks):
    for t in tasks:
        t.cancel()
    if v.location:
        await asyncio.get_running_loop().run_in_executor(None, delete_session, v.location, 2)
    await v.pc.close()


async def viewers_main(args):
    n = args.count
    step = args.spread_s / n if n > 1 else 0
    results = await asyncio.gather(*(run_viewer(args, f"{args.id_prefix}v{i}", i * step) for i in range(n)))
    ok = [r for r in results if r]
    emit("summary", count=n, ok=len(ok), failed=n - len(ok))


async def host_main(args):
    pc = RTCPeerConnection()
    pc.addTransceiver(PatternVideoTrack(*args.size, args.fps), direction="sendonly")
    await pc.setLocalDescription(await pc.createOffer())
    loop = asyncio.get_running_loop()
    t0 = time.monotonic()
    while True:
        try:
            location, _etag, answer = await loop.run_in_executor(
                None, post_offer, args.broker_url, "whip", args.stream, pc.localDescription.sdp)
            break
        except (WhipError, OSError) as err:
            status = getattr(err, "status", None)
            if (status is not None and status != 409 and status < 500) or time.monotonic() - t0 > args.retry_s:
                emit("publish_failed", stream=args.stream, status=status, error=str(err)[:300])
                await pc.close()
                return 1
            await asyncio.sleep(0.5)
    await pc.setRemoteDescription(RTCSessionDescription(sdp=answer, type="answer"))
    emit("published", stream=args.stream, location=location, ms=round((time.monotonic() - t0) * 1000))
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    await loop.run_in_executor(None, delete_session, location, 2)
    await pc.close()
    return 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=["host", "viewers"])
    ap.add_argument("broker_url")
    ap.add_argument("stream")
    ap.add_argument("--size", type=parse_size, default=(320, 240))
    ap.add_argument("--fps", type=int, default=15)
    ap.add_argument("--retry-s", type=float, default=20)
    ap.add_argument("--count", type=int, default=1)
    ap.add_argument("--duration", type=float, default=20, help="seconds each viewer watches after its first frame")
    ap.add_argument("--spread-s", type=float, default=5, help="viewers start evenly over this many seconds")
    ap.add_argument("--id-prefix", default="", help="prefix of the viewer ids (several processes in one run)")
    ap.add_argument("--timeout", type=float, default=30, help="seconds to wait for the session and the first frame")
    args = ap.parse_args()
    if args.mode == "host":
        sys.exit(asyncio.run(host_main(args)))
    asyncio.run(viewers_main(args))


if __name__ == "__main__":
    main()
