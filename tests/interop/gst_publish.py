#!/usr/bin/python3
"""WHIP publisher built on GStreamer webrtcbin (VP8 + Opus, bundle-policy max-bundle).

Usage: /usr/bin/python3 gst_publish.py SERVER_URL STREAM [--duration S] [--offer-only]
Creates the offer, waits for ICE gathering to complete (candidates in the SDP, no trickle), POSTs
it (urllib), applies the answer and runs for --duration seconds. JSON lines on stdout: offer,
session, progress, done. Exit 0 if the PeerConnection reached "connected" and stayed up."""
import argparse
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
import gi  # noqa: E402

gi.require_version("Gst", "1.0")
gi.require_version("GstWebRTC", "1.0")
gi.require_version("GstSdp", "1.0")
from gi.repository import GLib, Gst, GstSdp, GstWebRTC  # noqa: E402

from whip_http import WhipError, delete_session, emit, log, post_offer  # noqa: E402

PIPELINE = (
    "webrtcbin name=webrtc bundle-policy=max-bundle "
    "videotestsrc is-live=true pattern=ball ! video/x-raw,width=640,height=360,framerate=30/1 "
    "! videoconvert ! queue ! vp8enc deadline=1 cpu-used=8 target-bitrate=600000 keyframe-max-dist=60 "
    "! rtpvp8pay pt=96 ! application/x-rtp,media=video,encoding-name=VP8,payload=96,clock-rate=90000 ! webrtc. "
    "audiotestsrc is-live=true wave=sine ! audioconvert ! audioresample ! queue ! opusenc "
    "! rtpopuspay pt=111 ! application/x-rtp,media=audio,encoding-name=OPUS,payload=111,clock-rate=48000 ! webrtc. "
)


class Publisher:
    def __init__(self, args):
        self.args = args
        self.loop = GLib.MainLoop()
        self.exit_code = 1
        self.location = None
        self.connected = False
        self.pipe = Gst.parse_launch(PIPELINE)
        self.webrtc = self.pipe.get_by_name("webrtc")
        # libnice gathers no loopback candidates and cannot reach 127.0.0.1 from the
        # machine's other addresses; tests run on loopback only, so gather there.
        if args.local_ip:
            # Keep the wrapper alive: letting it go drops a reference webrtcbin still needs
            # (PyGObject and the ice-agent property disagree on ownership) and crashes later.
            self.ice_agent = self.webrtc.get_property("ice-agent")
            self.ice_agent.emit("add-local-ip-address", args.local_ip)
        self.webrtc.connect("on-negotiation-needed", self.on_negotiation_needed)
        self.webrtc.connect("notify::ice-gathering-state", self.on_gathering_state)
        self.webrtc.connect("notify::connection-state", self.on_connection_state)
        bus = self.pipe.get_bus()
        bus.add_signal_watch()
        bus.connect("message::error", self.on_error)

    def start(self):
        # Transceivers exist once the payloader pads are linked; make them send-only (WHIP publishes).
        self.pipe.set_state(Gst.State.READY)
        i = 0
        while True:
            trans = self.webrtc.emit("get-transceiver", i)
            if trans is None:
                break
            trans.set_property("direction", GstWebRTC.WebRTCRTPTransceiverDirection.SENDONLY)
            i += 1
        self.pipe.set_state(Gst.State.PLAYING)
        GLib.timeout_add_seconds(int(self.args.duration) + 20, self.on_overall_timeout)

    def on_negotiation_needed(self, webrtc):
        promise = Gst.Promise.new_with_change_func(self.on_offer_created, None)
        webrtc.emit("create-offer", None, promise)

    def on_offer_created(self, promise, _):
        reply = promise.get_reply()
        offer = reply.get_value("offer")
        self.webrtc.emit("set-local-description", offer, Gst.Promise.new())
        log("gst_publish: offer created, gathering candidates")

    def on_gathering_state(self, webrtc, _pspec):
        if webrtc.get_property("ice-gathering-state") == GstWebRTC.WebRTCICEGatheringState.COMPLETE:
            GLib.idle_add(self.send_offer)

    def send_offer(self):
        # webrtcbin writes gathered candidates into its local description.
        sdp = self.webrtc.get_property("local-description").sdp.as_text()
        emit("offer", sdp=sdp)
        if self.args.offer_only:
            self.finish(0)
            return False
        try:
            self.location, etag, answer = post_offer(self.args.server_url, "whip", self.args.stream, sdp)
        except (WhipError, OSError) as err:
            emit("error", status=getattr(err, "status", None), body=str(err))
            self.finish(2)
            return False
        emit("session", location=self.location, etag=etag, answer=answer)
        res, msg = GstSdp.SDPMessage.new_from_text(answer)
        if res != GstSdp.SDPResult.OK:
            emit("error", status=None, body="could not parse answer SDP")
            self.finish(2)
            return False
        desc = GstWebRTC.WebRTCSessionDescription.new(GstWebRTC.WebRTCSDPType.ANSWER, msg)
        self.webrtc.emit("set-remote-description", desc, Gst.Promise.new())
        self.started = time.monotonic()
        GLib.timeout_add(1000, self.on_tick)
        return False

    def on_connection_state(self, webrtc, _pspec):
        state = webrtc.get_property("connection-state")
        log(f"gst_publish: connection-state {state.value_nick}")
        if state == GstWebRTC.WebRTCPeerConnectionState.CONNECTED:
            self.connected = True
        elif state == GstWebRTC.WebRTCPeerConnectionState.FAILED:
            GLib.idle_add(self.finish, 1)

    def on_tick(self):
        elapsed = time.monotonic() - self.started
        state = self.webrtc.get_property("connection-state").value_nick
        emit("progress", elapsed=round(elapsed, 1), connection=state)
        if elapsed >= self.args.duration:
            ok = self.connected and state == "connected"
            status = delete_session(self.location) if self.location else None
            emit("done", ok=ok, connection=state, delete_status=status)
            self.finish(0 if ok else 1)
            return False
        return True

    def on_error(self, _bus, msg):
        err, dbg = msg.parse_error()
        emit("error", status=None, body=f"{err.message} ({dbg})")
        self.finish(4)

    def on_overall_timeout(self):
        log("gst_publish: overall timeout")
        self.finish(3)
        return False

    def finish(self, code):
        self.exit_code = code
        self.loop.quit()
        return False


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("server_url")
    ap.add_argument("stream")
    ap.add_argument("--duration", type=float, default=20.0)
    ap.add_argument("--local-ip", default="127.0.0.1",
                    help="the only address ICE gathers on ('' = every interface)")
    ap.add_argument("--offer-only", action="store_true", help="print the offer and exit (no server needed)")
    args = ap.parse_args()
    Gst.init(None)
    pub = Publisher(args)
    pub.start()
    pub.loop.run()
    pub.pipe.set_state(Gst.State.NULL)
    sys.exit(pub.exit_code)


if __name__ == "__main__":
    main()
