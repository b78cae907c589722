#!/usr/bin/python3
"""WHEP viewer built on GStreamer webrtcbin: one recvonly video (VP8) and one recvonly audio (Opus)
m-line, as a plain WHEP player offers. Decodes the video (decodebin), converts to RGB and reports
the frame count, size and centre colour; counts decoded audio buffers.

Usage: /usr/bin/python3 room_gst_view.py SERVER_URL LIVE [--duration S] [--offer-only]
Retries the POST while the server answers 409 + Retry-After. JSON lines on stdout: offer, session
{location, answer}, first_frame, caps {width, height}, progress {frames, width, height, color,
audio_buffers, connection} every 0.5 s, done. Exit 0 if it decoded at least one video frame."""
import argparse
import os
import sys
import time
import urllib.parse

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
import gi  # noqa: E402

gi.require_version("Gst", "1.0")
gi.require_version("GstWebRTC", "1.0")
gi.require_version("GstSdp", "1.0")
from gi.repository import GLib, Gst, GstSdp, GstWebRTC  # noqa: E402

from whip_http import WhipError, delete_session, emit, log, post_offer_retrying  # noqa: E402

VIDEO_CAPS = "application/x-rtp,media=video,encoding-name=VP8,payload=96,clock-rate=90000"
AUDIO_CAPS = "application/x-rtp,media=audio,encoding-name=OPUS,payload=111,clock-rate=48000,encoding-params=(string)2"


class Viewer:
    def __init__(self, args):
        self.args = args
        self.loop = GLib.MainLoop()
        self.exit_code = 1
        self.location = None
        self.t0 = time.monotonic()
        self.frames = 0
        self.audio_buffers = 0
        self.width = self.height = 0
        self.color = None
        self.first_frame_ms = None
        self.pipe = Gst.Pipeline.new("view")
        self.webrtc = Gst.ElementFactory.make("webrtcbin", "webrtc")
        self.webrtc.set_property("bundle-policy", GstWebRTC.WebRTCBundlePolicy.MAX_BUNDLE)
        self.pipe.add(self.webrtc)
        if args.local_ip:
            # Keep the wrapper alive (see gst_publish.py).
            self.ice_agent = self.webrtc.get_property("ice-agent")
            self.ice_agent.emit("add-local-ip-address", args.local_ip)
        self.webrtc.connect("on-negotiation-needed", self.on_negotiation_needed)
        self.webrtc.connect("notify::ice-gathering-state", self.on_gathering_state)
        self.webrtc.connect("pad-added", self.on_pad_added)
        bus = self.pipe.get_bus()
        bus.add_signal_watch()
        bus.connect("message::error", self.on_error)
        self.offer_sent = False

    def ms(self):
        return round((time.monotonic() - self.t0) * 1000)

    def start(self):
        recv = GstWebRTC.WebRTCRTPTransceiverDirection.RECVONLY
        self.webrtc.emit("add-transceiver", recv, Gst.Caps.from_string(VIDEO_CAPS))
        self.webrtc.emit("add-transceiver", recv, Gst.Caps.from_string(AUDIO_CAPS))
        self.pipe.set_state(Gst.State.PLAYING)
        GLib.timeout_add_seconds(int(self.args.duration) + 20, self.on_overall_timeout)

    def on_negotiation_needed(self, webrtc):
        promise = Gst.Promise.new_with_change_func(self.on_offer_created, None)
        webrtc.emit("create-offer", None, promise)

    def on_offer_created(self, promise, _):
        reply = promise.get_reply()
        offer = reply.get_value("offer") if reply else None
        if offer is None:
            # Seen once on a cold GStreamer registry: try again shortly, then give up.
            self.offer_failures = getattr(self, "offer_failures", 0) + 1
            log(f"room_gst_view: create-offer failed ({reply.to_string() if reply else None})")
            if self.offer_failures >= 3:
                emit("error", status=None, body="create-offer failed 3 times")
                GLib.idle_add(self.finish, 4)
            else:
                GLib.timeout_add(200, lambda: self.on_negotiation_needed(self.webrtc) and False)
            return
        self.webrtc.emit("set-local-description", offer, Gst.Promise.new())

    def on_gathering_state(self, webrtc, _pspec):
        if webrtc.get_property("ice-gathering-state") == GstWebRTC.WebRTCICEGatheringState.COMPLETE and not self.offer_sent:
            self.offer_sent = True
            GLib.idle_add(self.send_offer)

    def send_offer(self):
        sdp = self.webrtc.get_property("local-description").sdp.as_text()
        emit("offer", sdp=sdp)
        if self.args.offer_only:
            self.finish(0)
            return False
        deadline = time.monotonic() + 15
        try:
            self.location, etag, answer = post_offer_retrying(self.args.server_url, "whep", self.args.live, sdp,
                                                              deadline, time.monotonic)
        except (WhipError, OSError) as err:
            emit("error", status=getattr(err, "status", None), body=getattr(err, "body", str(err)))
            self.finish(2)
            return False
        emit("session", location=self.location, etag=etag, answer=answer, ms=self.ms())
        res, msg = GstSdp.SDPMessage.new_from_text(answer)
        if res != GstSdp.SDPResult.OK:
            emit("error", status=None, body="could not parse answer SDP")
            self.finish(2)
            return False
        desc = GstWebRTC.WebRTCSessionDescription.new(GstWebRTC.WebRTCSDPType.ANSWER, msg)
        self.webrtc.emit("set-remote-description", desc, Gst.Promise.new())
        self.started = time.monotonic()
        GLib.timeout_add(500, self.on_tick)
        return False

    def on_pad_added(self, _webrtc, pad):
        if pad.get_direction() != Gst.PadDirection.SRC:
            return
        caps = pad.get_current_caps() or pad.query_caps(None)
        media = caps.get_structure(0).get_value("media") if caps and caps.get_size() else None
        log(f"room_gst_view: pad {pad.get_name()} media={media}")
        decode = Gst.ElementFactory.make("decodebin")
        decode.connect("pad-added", self.on_decoded_pad)
        self.pipe.add(decode)
        decode.sync_state_with_parent()
        pad.link(decode.get_static_pad("sink"))

    def on_decoded_pad(self, _decodebin, pad):
        caps = pad.get_current_caps() or pad.query_caps(None)
        name = caps.get_structure(0).get_name()
        if name.startswith("video/"):
            chain = Gst.parse_bin_from_description(
                "queue ! videoconvert ! video/x-raw,format=RGB ! fakesink name=vsink sync=false", True)
        elif name.startswith("audio/"):
            chain = Gst.parse_bin_from_description("queue ! fakesink name=asink sync=false", True)
        else:
            return
        self.pipe.add(chain)
        chain.sync_state_with_parent()
        pad.link(chain.get_static_pad("sink"))
        sink = chain.get_by_name("vsink") or chain.get_by_name("asink")
        probe = self.on_video_buffer if name.startswith("video/") else self.on_audio_buffer
        sink.get_static_pad("sink").add_probe(Gst.PadProbeType.BUFFER, probe)

    def on_video_buffer(self, pad, info):
        caps = pad.get_current_caps()
        s = caps.get_structure(0)
        w, h = s.get_value("width"), s.get_value("height")
        self.frames += 1
        if self.first_frame_ms is None:
            self.first_frame_ms = self.ms()
        changed = (w, h) != (self.width, self.height)
        if changed or self.frames % 10 == 1:
            buf = info.get_buffer()
            ok, mapinfo = buf.map(Gst.MapFlags.READ)
            if ok:
                stride = (w * 3 + 3) & ~3
                data = mapinfo.data
                acc = [0, 0, 0]
                n = 0
                for y in range(h // 4, h // 2, max(1, h // 16)):
                    for x in range(w // 4, 3 * w // 4, max(1, w // 16)):
                        off = y * stride + x * 3
                        for c in range(3):
                            acc[c] += data[off + c]
                        n += 1
                buf.unmap(mapinfo)
                self.color = [round(a / n) for a in acc] if n else None
        if changed:
            self.width, self.height = w, h
            emit("caps", width=w, height=h, color=self.color, frames=self.frames, ms=self.ms())
        if self.frames == 1:
            emit("first_frame", width=w, height=h, color=self.color, ms=self.ms())
        return Gst.PadProbeReturn.OK

    def on_audio_buffer(self, _pad, _info):
        self.audio_buffers += 1
        return Gst.PadProbeReturn.OK

    def on_tick(self):
        state = self.webrtc.get_property("connection-state").value_nick
        emit("progress", frames=self.frames, width=self.width, height=self.height, color=self.color,
             audio_buffers=self.audio_buffers, connection=state, ms=self.ms())
        if time.monotonic() - self.started >= self.args.duration:
            status = delete_session(self.location) if self.location else None
            emit("done", ok=self.frames > 0, frames=self.frames, width=self.width, height=self.height,
                 color=self.color, audio_buffers=self.audio_buffers, connection=state, delete_status=status)
            self.finish(0 if self.frames > 0 else 1)
            return False
        return True

    def on_error(self, _bus, msg):
        err, dbg = msg.parse_error()
        emit("error", status=None, body=f"{err.message} ({dbg})")
        self.finish(4)

    def on_overall_timeout(self):
        log("room_gst_view: overall timeout")
        self.finish(3)
        return False

    def finish(self, code):
        self.exit_code = code
        self.loop.quit()
        return False


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("server_url")
    ap.add_argument("live")
    ap.add_argument("--duration", type=float, default=20.0, help="seconds to watch after the answer")
    ap.add_argument("--local-ip", default="127.0.0.1", help="the only address ICE gathers on ('' = every interface)")
    ap.add_argument("--offer-only", action="store_true", help="print the offer and exit (no server needed)")
    args = ap.parse_args()
    args.live = urllib.parse.unquote(args.live)
    Gst.init(None)
    viewer = Viewer(args)
    viewer.start()
    viewer.loop.run()
    viewer.pipe.set_state(Gst.State.NULL)
    sys.exit(viewer.exit_code)


if __name__ == "__main__":
    main()
