#!/usr/bin/python3
"""One participant of a live with several hosts (README, "Lives with several hosts"), on aiortc.

It may publish as a host (WHIP `?host=NAME`: a solid-colour VP8 video of a size of its own and an
Opus tone of its own frequency) and/or watch the live with N slots (WHEP: N recvonly video m-lines,
each optionally paired with a recvonly audio m-line; `?exclude=` / `?host=` filters). For each slot
it tells whose video it decodes from the frame size and centre colour, and whose audio the paired
m-line carries from the tone's dominant frequency (--known NAME=WxH:RRGGBB[:HZ]); it records the RTP
SSRCs and sequence-number jumps per slot, and reads the server-sent events of each of its sessions
(the 201's Link rel "urn:ietf:params:whep:ext:core:server-sent-events").

Usage: /usr/bin/python3 room_participant.py SERVER_URL LIVE [--publish NAME] [--size WxH] [--color RRGGBB]
         [--tone-amp A] [--tone-freq HZ] [--fps F] [--wait-connected] [--slots N] [--audio] [--audio-first]
         [--exclude NAME | --host NAME] [--known NAME=WxH:RRGGBB[:HZ] ...] [--events] [--duration S]
         [--offer-only]
Runs until --duration has passed or SIGTERM, then DELETEs its sessions (unless --no-delete).
JSON lines on stdout:
  publish_offer / watch_offer {sdp} (--offer-only)
  publish_session / watch_session {status, location, link, events_url, answer, media}
  publish_connected {connection}                  error {what, status, body}
  first_frame {mid, who, ...}   slot_change {mid, from, to, gap_ms, ms}   audio_change {mid, from, to, hz}
  track_ended {mid, kind}
  sse_open {session, status, content_type}   sse {session, name, data, ms, first_ms}   sse_closed / sse_error
  progress {ms, pub: {connection, frames_sent}, watch: {connection, slots: [...]}, unrouted} every --progress s
  done {watch_delete, publish_delete, pub, watch, unrouted}
Exit 0 unless a POST failed (2) or the overall timeout hit (3)."""
import argparse
import asyncio
import fractions
import http.client
import json
import os
import re
import signal
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
import numpy as np  # noqa: E402
from av import VideoFrame  # noqa: E402
from aiortc import RTCPeerConnection, RTCSessionDescription, VideoStreamTrack  # noqa: E402
from aiortc.codecs import HEADER_EXTENSIONS  # noqa: E402
from aiortc.mediastreams import MediaStreamError  # noqa: E402
from aiortc.rtcdtlstransport import RTCDtlsTransport, RtpRouter  # noqa: E402
from aiortc.rtcrtpreceiver import RTCRtpReceiver  # noqa: E402
from tone_track import ToneAudioTrack  # noqa: E402
from whip_http import delete_session  # noqa: E402

# aiortc 1.4 offers id 2 for ssrc-audio-level (audio) and for abs-send-time (video) in one BUNDLE
# (RFC 8843 §9.2 forbids one id for two extensions there) and parses every packet of the bundle
# with one map: a 1-byte audio level read as abs-send-time raises and stops its DTLS transport, so
# a viewer with audio and video m-lines then receives nothing. Give the audio level an id of its own.
for _ext in HEADER_EXTENSIONS["audio"]:
    if _ext.uri == "urn:ietf:params:rtp-hdrext:ssrc-audio-level":
        _ext.id = 3

SSE_REL = "urn:ietf:params:whep:ext:core:server-sent-events"
T0 = time.monotonic()
_print_lock = threading.Lock()


def ms():
    return round((time.monotonic() - T0) * 1000)


def emit(event, **fields):
    line = json.dumps({"event": event, **fields})
    with _print_lock:
        print(line, flush=True)


def log(msg):
    with _print_lock:
        print(msg, file=sys.stderr, flush=True)


def parse_size(text):
    w, h = text.lower().split("x")
    return int(w), int(h)


def parse_color(text):
    text = text.lstrip("#")
    return tuple(int(text[i:i + 2], 16) for i in (0, 2, 4))


def parse_known(items):
    """NAME=WxH:RRGGBB[:HZ] -> [(name, (w, h), (r, g, b), hz or None)]"""
    known = []
    for item in items or []:
        name, rest = item.split("=", 1)
        parts = rest.split(":")
        known.append((name, parse_size(parts[0]), parse_color(parts[1]), float(parts[2]) if len(parts) > 2 else None))
    return known


COLOR_TOLERANCE = 40  # per channel, after VP8 and two colour-space conversions


def identify(known, width, height, color):
    """The known participant whose size and colour the frame has; '?...' when none matches."""
    by_size = [k for k in known if k[1] == (width, height)]
    for name, _size, rgb, _hz in by_size:
        if color is None or all(abs(a - b) <= COLOR_TOLERANCE for a, b in zip(color, rgb)):
            return name
    if by_size:
        return f"?colour-of-{by_size[0][0]}"
    return f"?{width}x{height}"


FREQ_TOLERANCE = 30.0  # Hz
SILENCE_RMS = 30.0  # int16 units: below this a slot's audio counts as silence


def identify_tone(known, hz, rms):
    """The known participant whose tone frequency the audio has; 'silence' or '?HZ' otherwise."""
    if rms is None:
        return None
    if rms < SILENCE_RMS:
        return "silence"
    for name, _size, _rgb, want in known:
        if want is not None and abs(hz - want) <= FREQ_TOLERANCE:
            return name
    return f"?{round(hz)}Hz"


# --- media sources ---------------------------------------------------------------------------

class SolidVideoTrack(VideoStreamTrack):
    """A solid colour of a size of its own, with a small block moving along the bottom edge so
    the encoder sends real deltas; paced at --fps."""

    def __init__(self, width, height, rgb, fps):
        super().__init__()
        self.width, self.height, self.fps = width, height, fps
        self.rgb = np.array(rgb, dtype=np.uint8)
        self.base = np.empty((height, width, 3), dtype=np.uint8)
        self.base[:, :] = self.rgb
        self.count = 0
        self.t0 = None

    async def recv(self):
        if self.t0 is None:
            self.t0 = time.monotonic()
        wait = self.t0 + self.count / self.fps - time.monotonic()
        if wait > 0:
            await asyncio.sleep(wait)
        img = self.base.copy()
        bw = 32
        x = (self.count * 6) % max(1, self.width - bw)
        img[self.height - 20:self.height - 4, x:x + bw] = 255 - self.rgb
        frame = VideoFrame.from_ndarray(img, format="rgb24")
        frame.pts = int(self.count * 90000 / self.fps)
        frame.time_base = fractions.Fraction(1, 90000)
        self.count += 1
        return frame


# --- HTTP --------------------------------------------------------------------------------------

def post_sdp(url, sdp, timeout=10):
    """POST an SDP offer; returns (status, headers, body, url) for any status. A broker's 307/308
    (RFC 9725 §4.5) is followed with the same offer, up to 3 times; `url` is the one that answered,
    the base of the answer's relative Location and Link."""
    for _ in range(4):
        req = urllib.request.Request(url, data=sdp.encode(), method="POST",
                                     headers={"Content-Type": "application/sdp"})
        try:
            with urllib.request.urlopen(req, timeout=timeout) as res:
                return res.status, res.headers, res.read().decode(), url
        except urllib.error.HTTPError as err:
            body = err.read().decode(errors="replace")
            if err.code in (307, 308) and err.headers.get("Location"):
                url = urllib.parse.urljoin(url, err.headers.get("Location"))
                continue
            return err.code, err.headers, body, url
    return 508, {}, "too many redirects", url


def sse_link(headers, base_url):
    """The URL of the Link whose rel is the server-sent-events extension, or None; and every Link."""
    values = headers.get_all("Link") or []
    found = None
    for value in values:
        for m in re.finditer(r'<([^>]*)>((?:\s*;\s*[^;,]+)*)', value):
            params = m.group(2)
            rel = re.search(r';\s*rel\s*=\s*"?([^";]+)"?', params)
            if rel and SSE_REL in rel.group(1).split() and found is None:
                found = urllib.parse.urljoin(base_url, m.group(1))
    return found, values


def read_events(session, url, stop):
    """Reads a text/event-stream in a thread and prints every event as an `sse` line."""
    started = ms()
    try:
        req = urllib.request.Request(url, headers={"Accept": "text/event-stream"})
        res = urllib.request.urlopen(req, timeout=40)  # the server pings every 15 s
    except urllib.error.HTTPError as err:
        emit("sse_error", session=session, status=err.code, body=err.read().decode(errors="replace")[:300])
        return
    except OSError as err:
        emit("sse_error", session=session, status=None, body=str(err))
        return
    emit("sse_open", session=session, status=res.status, content_type=res.headers.get("Content-Type"),
         ms=ms(), open_ms=ms() - started)
    name, data, count = None, [], 0
    try:
        while not stop.is_set():
            raw = res.readline()
            if not raw:
                emit("sse_closed", session=session, events=count, ms=ms())
                return
            line = raw.decode("utf-8", errors="replace").rstrip("\r\n")
            if line == "":
                if data:
                    text = "\n".join(data)
                    try:
                        parsed = json.loads(text)
                    except ValueError:
                        parsed = None
                    count += 1
                    emit("sse", session=session, name=name or "message", data=parsed, raw=None if parsed else text,
                         ms=ms(), first_ms=(ms() - started) if count == 1 else None)
                name, data = None, []
            elif line.startswith(":"):
                continue  # comment (": ping")
            elif line.startswith("event:"):
                name = line[6:].strip()
            elif line.startswith("data:"):
                data.append(line[5:][1:] if line[5:].startswith(" ") else line[5:])
    except http.client.HTTPException as err:  # e.g. IncompleteRead: the stream ended mid-chunk
        emit("sse_closed", session=session, events=count, ms=ms(), error=repr(err))
    except OSError as err:
        if not stop.is_set():
            emit("sse_error", session=session, status=None, body=str(err), ms=ms())
    finally:
        res.close()


def answer_media(answer):
    """[(kind, mid, direction, [ssrc...])] of the answer's m-lines, in order; the SSRCs in the order of
    their first a=ssrc line (the media SSRC first, as aiortc reads it, then RTX)."""
    out = []
    for block in re.split(r"\r?\n(?=m=)", answer)[1:]:
        kind = block.split(" ", 1)[0][2:]
        mid = re.search(r"^a=mid:(\S+)", block, re.M)
        direction = re.search(r"^a=(sendrecv|sendonly|recvonly|inactive)\s*$", block, re.M)
        ssrcs = list(dict.fromkeys(int(s) for s in re.findall(r"^a=ssrc:(\d+) ", block, re.M)))  # in order
        out.append((kind, mid.group(1) if mid else None, direction.group(1) if direction else None, ssrcs))
    return out


# --- RTP continuity ---------------------------------------------------------------------------

class RtpStats:
    """Sequence numbers per SSRC as they reach a receiver: a slot's stream must stay continuous
    when its host changes (README: "starting at a keyframe with continuous sequence numbers").
    With drop_every, every Nth packet of the first SSRC seen (the media SSRC; not RTX) after the
    first 60 is counted here and then withheld from aiortc, as if lost on the way: the server must
    retransmit it when aiortc NACKs it, or the video stalls."""

    def __init__(self, drop_every=0):
        self.packets = 0
        self.by_ssrc = {}  # ssrc -> packets
        self.last_seq = {}  # ssrc -> last sequence number
        self.jumps = []  # [ms, ssrc, delta] for every step other than +1 (first 20)
        self.jump_count = 0
        self.drop_every = drop_every
        self.media_ssrc = None
        self.dropped = 0
        self.withheld = {}  # sequence number -> ms when withheld, until a retransmission brings it
        self.recovered = 0
        self.recovery_ms = []  # withheld -> retransmission arrived, per recovered packet
        self.missing = {}  # media sequence numbers skipped by a jump -> ms, until they arrive late or by RTX
        self.nacks = 0  # NACK messages aiortc sent for this slot
        self.nacked = {}  # withheld sequence number -> [ms of each NACK naming it]
        self.filled = 0

    def add(self, packet):
        """Records the packet; returns False when it is to be withheld (dropped)."""
        self.packets += 1
        self.by_ssrc[packet.ssrc] = self.by_ssrc.get(packet.ssrc, 0) + 1
        if self.media_ssrc is None:
            self.media_ssrc = packet.ssrc
        last = self.last_seq.get(packet.ssrc)
        media = packet.ssrc == self.media_ssrc
        if media and packet.sequence_number in self.missing:
            del self.missing[packet.sequence_number]  # late, out of order
            self.filled += 1
            return True
        if last is not None:
            delta = (packet.sequence_number - last) % 65536
            if delta != 1:
                self.jump_count += 1
                if len(self.jumps) < 20:
                    self.jumps.append([ms(), packet.ssrc, delta if delta < 32768 else delta - 65536])
                if media and 1 < delta < 1000:
                    for k in range(1, delta):
                        self.missing[(last + k) % 65536] = ms()
        self.last_seq[packet.ssrc] = packet.sequence_number
        if not media:
            # RTX (RFC 4588): the payload starts with the original sequence number.
            if len(packet.payload) >= 2:
                osn = int.from_bytes(packet.payload[:2], "big")
                at = self.withheld.pop(osn, None)
                if at is not None:
                    self.recovered += 1
                    self.recovery_ms.append(ms() - at)
                elif self.missing.pop(osn, None) is not None:
                    self.filled += 1
            return True
        n = self.by_ssrc[packet.ssrc]
        if self.drop_every and n > 60 and n % self.drop_every == 0:
            self.dropped += 1
            self.withheld[packet.sequence_number] = ms()
            return False
        return True

    def summary(self):
        now = ms()
        return {"packets": self.packets, "ssrcs": sorted(self.by_ssrc), "media_ssrc": self.media_ssrc,
                "by_ssrc": {str(k): v for k, v in self.by_ssrc.items()}, "jump_count": self.jump_count,
                "jumps": self.jumps, "dropped": self.dropped, "recovered": self.recovered,
                "max_recovery_ms": max(self.recovery_ms, default=None),
                # withheld more than 1 s ago and never retransmitted: [seq, ms withheld, [ms of each NACK for it]]
                "unrecovered": sorted([seq, at, self.nacked.get(seq, [])] for seq, at in self.withheld.items() if now - at > 1000),
                "nacks": self.nacks,
                # skipped by a jump (lost on the way, or never sent), filled later by a late packet or RTX
                "filled": self.filled,
                # skipped more than 1 s ago and never filled: [ms, seq] (first 20)
                "unfilled": sorted([at, seq] for seq, at in self.missing.items() if now - at > 1000)[:20]}


RTP_STATS = {}
_original_handle_rtp = RTCRtpReceiver._handle_rtp_packet


async def _counting_handle_rtp(self, packet, arrival_time_ms):
    stats = RTP_STATS.get(id(self))
    if stats is not None and not stats.add(packet):
        return None
    return await _original_handle_rtp(self, packet, arrival_time_ms)


RTCRtpReceiver._handle_rtp_packet = _counting_handle_rtp
_original_send_rtcp_nack = RTCRtpReceiver._send_rtcp_nack


async def _counting_send_rtcp_nack(self, media_ssrc, lost):
    stats = RTP_STATS.get(id(self))
    if stats is not None:
        stats.nacks += 1
        for seq in lost:
            if seq in stats.withheld:
                stats.nacked.setdefault(seq, []).append(ms())
    return await _original_send_rtcp_nack(self, media_ssrc, lost)


RTCRtpReceiver._send_rtcp_nack = _counting_send_rtcp_nack

# aiortc 1.4 registers only the media SSRC of each m-line with its BUNDLE router and finds RTX
# packets by payload type alone, which fails as soon as several m-lines share the RTX payload type
# (every viewer with 2+ slots): the server's retransmissions are then dropped and one lost packet
# stalls the video for ~8 s, until 128 packets overflow the jitter buffer. Register the RTX SSRC the
# answer names (a=ssrc-group:FID) too.
_original_register_rtp_receiver = RTCDtlsTransport._register_rtp_receiver


def _register_rtp_receiver_with_rtx(self, receiver, parameters):
    _original_register_rtp_receiver(self, receiver, parameters)
    for encoding in parameters.encodings:
        if encoding.rtx is not None:
            self._rtp_router.ssrc_table[encoding.rtx.ssrc] = receiver


RTCDtlsTransport._register_rtp_receiver = _register_rtp_receiver_with_rtx

# RTP that aiortc's BUNDLE router cannot give to any m-line (an SSRC the answer did not name and a
# payload type several m-lines share): counted per "ssrc/pt", because aiortc drops it silently.
UNROUTED = {}
_original_route_rtp = RtpRouter.route_rtp


def _counting_route_rtp(self, packet):
    receiver = _original_route_rtp(self, packet)
    if receiver is None:
        key = f"{packet.ssrc}/{packet.payload_type}"
        UNROUTED[key] = UNROUTED.get(key, 0) + 1
    return receiver


RtpRouter.route_rtp = _counting_route_rtp


# --- watching ------------------------------------------------------------------------------------

class Slot:
    def __init__(self, index, mid, audio_mid, drop_every=0):
        self.index, self.mid, self.audio_mid = index, mid, audio_mid
        self.frames = 0
        self.audio_frames = 0
        self.width = self.height = 0
        self.color = None
        self.who = None
        self.by_who = {}
        self.first_ms = None
        self.last_at = None
        self.max_gap_ms = 0
        self.ended = []
        self.rtp = RtpStats(drop_every)
        self.audio_rtp = RtpStats()
        self.audio_who = None
        self.audio_hz = self.audio_rms = None
        self.audio_by_who = {}  # who -> number of 0.5 s windows

    def summary(self):
        return {"index": self.index, "mid": self.mid, "audio_mid": self.audio_mid, "frames": self.frames,
                "audio_frames": self.audio_frames, "who": self.who, "by_who": self.by_who,
                "width": self.width, "height": self.height, "color": self.color,
                "first_ms": self.first_ms, "max_gap_ms": self.max_gap_ms, "ended": self.ended, "rtp": self.rtp.summary(),
                "audio_who": self.audio_who, "audio_hz": self.audio_hz, "audio_rms": self.audio_rms,
                "audio_by_who": self.audio_by_who, "audio_rtp": self.audio_rtp.summary()}


async def consume_video(slot, track, known):
    try:
        while True:
            frame = await track.recv()
            now = time.monotonic()
            w, h = frame.width, frame.height
            slot.frames += 1
            if (w, h) != (slot.width, slot.height) or slot.frames % 10 == 1:
                img = frame.to_ndarray(format="rgb24")
                patch = img[h // 4:h // 2, w // 4:3 * w // 4]
                slot.color = [int(round(v)) for v in patch.reshape(-1, 3).mean(axis=0)]
            slot.width, slot.height = w, h
            who = identify(known, w, h, slot.color)
            gap = round((now - slot.last_at) * 1000) if slot.last_at else None
            if gap is not None:
                slot.max_gap_ms = max(slot.max_gap_ms, gap)
            if slot.first_ms is None:
                slot.first_ms = ms()
                emit("first_frame", mid=slot.mid, who=who, width=w, height=h, color=slot.color, ms=slot.first_ms)
            elif who != slot.who:
                emit("slot_change", mid=slot.mid, **{"from": slot.who}, to=who, gap_ms=gap, ms=ms(),
                     width=w, height=h, color=slot.color, frames=slot.frames)
            slot.who = who
            slot.by_who[who] = slot.by_who.get(who, 0) + 1
            slot.last_at = now
    except MediaStreamError:
        slot.ended.append("video")
        emit("track_ended", mid=slot.mid, kind="video", ms=ms())


async def consume_audio(slot, track, known):
    """Counts decoded audio frames and, every 25 frames (0.5 s), finds the dominant frequency of the
    last 4096 samples of the first channel: whose tone the paired audio m-line carries."""
    window = np.zeros(0, dtype=np.float64)
    try:
        while True:
            frame = await track.recv()
            slot.audio_frames += 1
            samples = frame.to_ndarray()
            channels = len(frame.layout.channels)
            first = samples.reshape(-1)[::channels] if frame.format.is_packed else samples[0]
            window = np.concatenate([window, first.astype(np.float64)])[-4096:]
            if slot.audio_frames % 25 == 0 and len(window) == 4096:
                rms = float(np.sqrt(np.mean(window ** 2)))
                spectrum = np.abs(np.fft.rfft(window * np.hanning(len(window))))
                hz = float(np.argmax(spectrum[1:]) + 1) * frame.sample_rate / len(window)
                who = identify_tone(known, hz, rms)
                if who != slot.audio_who and slot.audio_who is not None:
                    emit("audio_change", mid=slot.audio_mid, **{"from": slot.audio_who}, to=who, hz=round(hz), ms=ms())
                slot.audio_who, slot.audio_hz, slot.audio_rms = who, round(hz), round(rms)
                slot.audio_by_who[who] = slot.audio_by_who.get(who, 0) + 1
    except MediaStreamError:
        slot.ended.append("audio")
        emit("track_ended", mid=slot.audio_mid, kind="audio", ms=ms())


def whep_url(args):
    url = urllib.parse.urljoin(args.server_url, f"/whep/{urllib.parse.quote(args.live, safe='')}")
    query = {}
    if args.host:
        query["host"] = args.host
    if args.exclude:
        query["exclude"] = args.exclude
    return url + ("?" + urllib.parse.urlencode(query) if query else "")


def whip_url(args):
    url = urllib.parse.urljoin(args.server_url, f"/whip/{urllib.parse.quote(args.live, safe='')}")
    # --publish "" publishes without ?host= (the host is then named "host").
    return url + ("?" + urllib.parse.urlencode({"host": args.publish}) if args.publish else "")


async def post_retrying(url, offer, what, deadline):
    """POSTs in an executor; retries 409 + Retry-After (live not live yet) until the deadline."""
    loop = asyncio.get_running_loop()
    while True:
        status, headers, body, answered = await loop.run_in_executor(None, post_sdp, url, offer)
        if status == 409 and headers.get("Retry-After") and time.monotonic() < deadline:
            log(f"{what}: 409 {body[:120]}, retrying")
            await asyncio.sleep(min(float(headers.get("Retry-After") or 0.5), 0.5))
            continue
        return status, headers, body, answered


async def run(args):
    known = parse_known(args.known)
    stop = asyncio.Event()
    stop_thread = threading.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    deadline = time.monotonic() + args.duration
    code = 0
    pub_pc = view_pc = None
    pub_loc = view_loc = None
    video = None
    slots = []
    tasks = []

    if args.publish is not None:
        pub_pc = RTCPeerConnection()
        w, h = parse_size(args.size)
        video = SolidVideoTrack(w, h, parse_color(args.color), args.fps)
        if not args.no_audio_publish:
            pub_pc.addTransceiver(ToneAudioTrack(args.tone_amp, args.tone_freq), direction="sendonly")
        pub_pc.addTransceiver(video, direction="sendonly")
        await pub_pc.setLocalDescription(await pub_pc.createOffer())
        offer = pub_pc.localDescription.sdp
        if args.offer_only:
            emit("publish_offer", sdp=offer)
        else:
            url = whip_url(args)
            # A host whose previous origin died is refused (409 + Retry-After) until its claim lapses.
            status, headers, body, url = await post_retrying(url, offer, "publish", deadline)
            if status != 201:
                emit("error", what="publish", status=status, body=body)
                await pub_pc.close()
                return 2
            pub_loc = urllib.parse.urljoin(url, headers.get("Location") or "")
            events_url, links = sse_link(headers, url)
            emit("publish_session", status=status, location=pub_loc, link=links, events_url=events_url,
                 answer=body, media=answer_media(body), ms=ms())
            await pub_pc.setRemoteDescription(RTCSessionDescription(sdp=body, type="answer"))
            if args.events and events_url:
                threading.Thread(target=read_events, args=("publish", events_url, stop_thread), daemon=True).start()
            if args.wait_connected:
                while pub_pc.connectionState not in ("connected", "failed") and time.monotonic() < deadline:
                    await asyncio.sleep(0.05)
                emit("publish_connected", connection=pub_pc.connectionState, ms=ms())

    if args.slots > 0:
        view_pc = RTCPeerConnection()
        pairs = []
        for _ in range(args.slots):
            if args.audio and args.audio_first:
                a = view_pc.addTransceiver("audio", direction="recvonly")
                v = view_pc.addTransceiver("video", direction="recvonly")
            else:
                v = view_pc.addTransceiver("video", direction="recvonly")
                a = view_pc.addTransceiver("audio", direction="recvonly") if args.audio else None
            pairs.append((v, a))
        await view_pc.setLocalDescription(await view_pc.createOffer())
        offer = view_pc.localDescription.sdp
        if args.offer_only:
            emit("watch_offer", sdp=offer)
        else:
            url = whep_url(args)
            status, headers, body, url = await post_retrying(url, offer, "watch", deadline)
            if status != 201:
                emit("error", what="watch", status=status, body=body)
                code = 2
            else:
                view_loc = urllib.parse.urljoin(url, headers.get("Location") or "")
                events_url, links = sse_link(headers, url)
                emit("watch_session", status=status, location=view_loc, link=links, events_url=events_url,
                     answer=body, media=answer_media(body), ms=ms())
                if args.events and events_url:
                    threading.Thread(target=read_events, args=("watch", events_url, stop_thread), daemon=True).start()
                await view_pc.setRemoteDescription(RTCSessionDescription(sdp=body, type="answer"))
                for i, (v, a) in enumerate(pairs):
                    slot = Slot(i, v.mid, a.mid if a else None, args.drop_every)
                    slots.append(slot)
                    RTP_STATS[id(v.receiver)] = slot.rtp
                    if a:
                        RTP_STATS[id(a.receiver)] = slot.audio_rtp
                    tasks.append(asyncio.ensure_future(consume_video(slot, v.receiver.track, known)))
                    if a:
                        tasks.append(asyncio.ensure_future(consume_audio(slot, a.receiver.track, known)))

    if args.offer_only:
        for pc in (pub_pc, view_pc):
            if pc:
                await pc.close()
        return 0

    while code == 0 and not stop.is_set() and time.monotonic() < deadline:
        try:
            await asyncio.wait_for(stop.wait(), args.progress)
        except asyncio.TimeoutError:
            pass
        emit("progress", ms=ms(),
             pub={"connection": pub_pc.connectionState, "frames_sent": video.count} if pub_pc else None,
             watch={"connection": view_pc.connectionState, "slots": [s.summary() for s in slots]} if view_pc else None,
             unrouted=UNROUTED)

    stop_thread.set()
    view_delete = delete_session(view_loc) if view_loc and args.delete else None
    pub_delete = delete_session(pub_loc) if pub_loc and args.delete else None
    emit("done", ms=ms(), watch_delete=view_delete, publish_delete=pub_delete, unrouted=UNROUTED,
         pub={"connection": pub_pc.connectionState, "frames_sent": video.count} if pub_pc else None,
         watch={"connection": view_pc.connectionState, "slots": [s.summary() for s in slots]} if view_pc else None)
    for t in tasks:
        t.cancel()
    for pc in (pub_pc, view_pc):
        if pc:
            await pc.close()
    return code


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("server_url")
    ap.add_argument("live")
    ap.add_argument("--publish", metavar="NAME", help="publish as host NAME (WHIP ?host=NAME; \"\" for no ?host=)")
    ap.add_argument("--size", default="320x180", help="published frame size WxH")
    ap.add_argument("--color", default="e02020", help="published colour RRGGBB")
    ap.add_argument("--fps", type=float, default=30.0)
    ap.add_argument("--tone-amp", type=float, default=8000.0, help="published tone amplitude (0 = silence)")
    ap.add_argument("--tone-freq", type=float, default=440.0)
    ap.add_argument("--no-audio-publish", action="store_true")
    ap.add_argument("--wait-connected", action="store_true", help="wait for the publisher to connect before watching")
    ap.add_argument("--slots", type=int, default=0, help="watch with this many video slots (0: do not watch)")
    ap.add_argument("--audio", action="store_true", help="pair a recvonly audio m-line with every slot")
    ap.add_argument("--audio-first", action="store_true", help="each slot's audio m-line before its video m-line")
    ap.add_argument("--host", help="WHEP ?host=NAME")
    ap.add_argument("--exclude", help="WHEP ?exclude=NAME")
    ap.add_argument("--known", action="append", help="NAME=WxH:RRGGBB[:HZ], repeatable: who is who (HZ: tone)")
    ap.add_argument("--events", action="store_true", help="read each session's server-sent events")
    ap.add_argument("--drop-every", type=int, default=0,
                    help="withhold every Nth video RTP packet of each slot from aiortc (loss: needs NACK + RTX)")
    ap.add_argument("--duration", type=float, default=30.0)
    ap.add_argument("--progress", type=float, default=0.5, help="seconds between progress lines")
    ap.add_argument("--no-delete", dest="delete", action="store_false")
    ap.add_argument("--offer-only", action="store_true", help="print the offers and exit (no server needed)")
    args = ap.parse_args()
    try:
        code = asyncio.run(asyncio.wait_for(run(args), args.duration + 30))
    except asyncio.TimeoutError:
        log("room_participant: overall timeout")
        code = 3
    sys.exit(code)


if __name__ == "__main__":
    main()
