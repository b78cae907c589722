// In-page WHIP/WHEP client used by the interop tests (runs inside Chromium, and Firefox as a viewer).
// Exposes window.strataClient = { publish, watch, stats, close, createOffer, loopback, restartIce, setLayer, sendCodecs }.
// Every function returns plain JSON-serialisable values so Playwright's page.evaluate can carry them.
(() => {
  'use strict';

  const sessions = new Map(); // id -> { pc, role, location, media, video, timing }
  let nextId = 1;

  // Wait until ICE gathering is complete (RFC 9725 §4.1: the client may send all candidates in
  // the offer instead of trickling). Capped so a stuck gatherer does not hang the test.
  function waitIceGathering(pc, timeoutMs) {
    if (pc.iceGatheringState === 'complete') return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => { pc.removeEventListener('icegatheringstatechange', onChange); resolve(false); }, timeoutMs);
      function onChange() {
        if (pc.iceGatheringState === 'complete') {
          clearTimeout(timer);
          pc.removeEventListener('icegatheringstatechange', onChange);
          resolve(true);
        }
      }
      pc.addEventListener('icegatheringstatechange', onChange);
    });
  }

  async function fakeMedia() {
    // Chromium's --use-fake-device-for-media-stream honours exact sizes up to 1920x1080.
    return navigator.mediaDevices.getUserMedia({
      audio: true,
      video: { width: { exact: 1280 }, height: { exact: 720 }, frameRate: { ideal: 30 } },
    });
  }

  function attachVideo(id, stream) {
    const video = document.createElement('video');
    video.id = `video-${id}`;
    video.muted = true;
    video.autoplay = true;
    video.playsInline = true;
    video.width = 320;
    video.height = 180;
    video.srcObject = stream;
    document.body.appendChild(video);
    video.play().catch(() => {});
    return video;
  }

  // simulcast: three encodings, rid q/h/f at 1/4, 1/2 and full resolution (RFC 8853).
  // codec: 'VP8' | 'VP9' | 'H264' | 'AV1' puts that codec first (setCodecPreferences);
  // scalabilityMode (e.g. 'L1T3') applies to every simulcast encoding.
  async function newPublisherPc({ simulcast = false, codec = null, scalabilityMode = null } = {}) {
    const media = await fakeMedia();
    const pc = new RTCPeerConnection({ bundlePolicy: 'max-bundle' });
    for (const track of media.getTracks()) {
      const init = { direction: 'sendonly', streams: [media] };
      if (simulcast && track.kind === 'video') {
        init.sendEncodings = [
          { rid: 'q', scaleResolutionDownBy: 4 }, { rid: 'h', scaleResolutionDownBy: 2 }, { rid: 'f' },
        ];
        if (scalabilityMode) for (const e of init.sendEncodings) e.scalabilityMode = scalabilityMode;
      }
      const transceiver = pc.addTransceiver(track, init);
      if (codec && track.kind === 'video') {
        const all = RTCRtpSender.getCapabilities('video').codecs;
        const want = all.filter((c) => c.mimeType.toLowerCase() === `video/${codec.toLowerCase()}`);
        if (!want.length) throw new Error(`this browser cannot send ${codec}`);
        transceiver.setCodecPreferences([...want, ...all.filter((c) => !want.includes(c))]);
      }
    }
    return { pc, media };
  }

  // The video codecs this browser can send (e.g. ['VP8', 'VP9', 'AV1', 'H264']).
  function sendCodecs() {
    return [...new Set(RTCRtpSender.getCapabilities('video').codecs
      .map((c) => c.mimeType.split('/')[1]).filter((n) => !['rtx', 'red', 'ulpfec', 'flexfec-03'].includes(n)))];
  }

  function newViewerPc() {
    const pc = new RTCPeerConnection({ bundlePolicy: 'max-bundle' });
    pc.addTransceiver('audio', { direction: 'recvonly' });
    pc.addTransceiver('video', { direction: 'recvonly' });
    return pc;
  }

  async function localOffer(pc) {
    await pc.setLocalDescription(await pc.createOffer());
    const gathered = await waitIceGathering(pc, 2000);
    return { sdp: pc.localDescription.sdp, gathered };
  }

  // POST the offer (WHIP or WHEP), return { location, etag, answer }. Throws with status + body on error.
  async function exchange(serverUrl, kind, stream, offerSdp) {
    const [name, query] = stream.split('?');
    const url = new URL(`/${kind}/${encodeURIComponent(name)}${query ? `?${query}` : ''}`, serverUrl);
    const res = await fetch(url, { method: 'POST', headers: { 'Content-Type': 'application/sdp' }, body: offerSdp });
    const body = await res.text();
    if (res.status !== 201) {
      const err = new Error(`${kind.toUpperCase()} POST ${url} -> ${res.status}: ${body.slice(0, 300)}`);
      err.status = res.status;
      err.retryAfter = res.headers.get('Retry-After');
      throw err;
    }
    const locationHeader = res.headers.get('Location');
    if (!locationHeader) throw new Error(`${kind.toUpperCase()} 201 without a readable Location header (CORS: Access-Control-Expose-Headers must list Location)`);
    // After a broker's 307, fetch reports the node's URL in res.url: the session lives there.
    return { location: new URL(locationHeader, res.url || url).href, etag: res.headers.get('ETag'), answer: body };
  }

  function register(entry) {
    const id = String(nextId++);
    sessions.set(id, entry);
    return id;
  }

  async function publish(serverUrl, stream, { simulcast = false, codec = null, scalabilityMode = null } = {}) {
    const { pc, media } = await newPublisherPc({ simulcast, codec, scalabilityMode });
    const { sdp, gathered } = await localOffer(pc);
    const { location, etag, answer } = await exchange(serverUrl, 'whip', stream, sdp);
    await pc.setRemoteDescription({ type: 'answer', sdp: answer });
    const settings = media.getVideoTracks()[0].getSettings();
    const id = register({ pc, role: 'publisher', location, media, answer, timing: {} });
    return { id, location, etag, gathered, offer: sdp, answer, width: settings.width, height: settings.height };
  }

  // Polls framesDecoded every 20 ms after setRemoteDescription so the caller can measure
  // time-to-first-frame (the join latency a viewer sees).
  function watchFirstFrame(entry) {
    const start = performance.now();
    const poll = async () => {
      if (entry.closed) return;
      const s = await readStats(entry.pc);
      if (s.video.framesDecoded > 0) { entry.timing.firstFrameMs = performance.now() - start; return; }
      if (performance.now() - start < 30000) setTimeout(poll, 20);
    };
    poll();
  }

  // POST a WHEP offer; while the stream is not live (409, or 404) retry the same offer until
  // waitLiveMs has passed, honouring Retry-After (capped at 1 s).
  async function exchangeWhenLive(serverUrl, stream, sdp, waitLiveMs) {
    const deadline = performance.now() + waitLiveMs;
    for (;;) {
      try {
        return await exchange(serverUrl, 'whep', stream, sdp);
      } catch (err) {
        if (![404, 409].includes(err.status) || performance.now() > deadline) throw err;
        const wait = Math.min(1000, 1000 * (Number(err.retryAfter) || 0.5));
        await new Promise((r) => setTimeout(r, wait));
      }
    }
  }

  async function watch(serverUrl, stream, { waitLiveMs = 0, layer = '' } = {}) {
    if (layer) stream = `${stream}?layer=${encodeURIComponent(layer)}`;
    const pc = newViewerPc();
    const remote = new MediaStream();
    pc.addEventListener('track', (ev) => remote.addTrack(ev.track));
    const { sdp, gathered } = await localOffer(pc);
    const { location, etag, answer } = await exchangeWhenLive(serverUrl, stream, sdp, waitLiveMs);
    const entry = { pc, role: 'viewer', location, answer, timing: {} };
    const id = register(entry);
    entry.video = attachVideo(id, remote);
    await pc.setRemoteDescription({ type: 'answer', sdp: answer });
    watchFirstFrame(entry);
    return { id, location, etag, gathered, offer: sdp, answer };
  }

  // Offer only (no network): used to save real client offers and to check codecs.
  async function createOffer(kind) {
    if (kind === 'whip') {
      const { pc, media } = await newPublisherPc();
      const { sdp, gathered } = await localOffer(pc);
      const settings = media.getVideoTracks()[0].getSettings();
      pc.close();
      media.getTracks().forEach((t) => t.stop());
      return { sdp, gathered, width: settings.width, height: settings.height };
    }
    const pc = newViewerPc();
    const { sdp, gathered } = await localOffer(pc);
    pc.close();
    return { sdp, gathered };
  }

  async function readStats(pc) {
    const out = {
      connectionState: pc.connectionState,
      iceConnectionState: pc.iceConnectionState,
      video: { framesDecoded: 0, framesReceived: 0, frameWidth: 0, frameHeight: 0, freezeCount: 0, packetsReceived: 0, packetsLost: 0, keyFramesDecoded: 0, codec: null },
      audio: { packetsReceived: 0, packetsLost: 0, codec: null },
      outbound: { video: { framesEncoded: 0, packetsSent: 0, frameWidth: 0, frameHeight: 0 }, audio: { packetsSent: 0 } },
    };
    const report = await pc.getStats();
    const codecs = new Map();
    report.forEach((s) => { if (s.type === 'codec') codecs.set(s.id, s.mimeType); });
    report.forEach((s) => {
      if (s.type === 'inbound-rtp' && s.kind === 'video') {
        Object.assign(out.video, {
          framesDecoded: s.framesDecoded ?? 0, framesReceived: s.framesReceived ?? 0,
          frameWidth: s.frameWidth ?? 0, frameHeight: s.frameHeight ?? 0, freezeCount: s.freezeCount ?? 0,
          packetsReceived: s.packetsReceived ?? 0, packetsLost: s.packetsLost ?? 0,
          keyFramesDecoded: s.keyFramesDecoded ?? 0, codec: codecs.get(s.codecId) ?? null,
          bytesReceived: s.bytesReceived ?? 0, framesPerSecond: s.framesPerSecond ?? 0,
          pliCount: s.pliCount ?? 0, firCount: s.firCount ?? 0, nackCount: s.nackCount ?? 0,
        });
      } else if (s.type === 'inbound-rtp' && s.kind === 'audio') {
        Object.assign(out.audio, { packetsReceived: s.packetsReceived ?? 0, packetsLost: s.packetsLost ?? 0, codec: codecs.get(s.codecId) ?? null,
          bytesReceived: s.bytesReceived ?? 0 });
      } else if (s.type === 'outbound-rtp' && s.kind === 'video') {
        // With simulcast there may be several; sum the counters, keep the largest layer size.
        const v = out.outbound.video;
        v.framesEncoded += s.framesEncoded ?? 0;
        v.packetsSent += s.packetsSent ?? 0;
        v.frameWidth = Math.max(v.frameWidth, s.frameWidth ?? 0);
        v.frameHeight = Math.max(v.frameHeight, s.frameHeight ?? 0);
        // Keyframe requests the receivers (here: the server) sent us, per simulcast encoding.
        v.pliCount = (v.pliCount ?? 0) + (s.pliCount ?? 0);
        v.firCount = (v.firCount ?? 0) + (s.firCount ?? 0);
        v.nackCount = (v.nackCount ?? 0) + (s.nackCount ?? 0);
        (v.encodings ??= []).push({
          rid: s.rid ?? null, frameWidth: s.frameWidth ?? 0, framesEncoded: s.framesEncoded ?? 0,
          pliCount: s.pliCount ?? 0, firCount: s.firCount ?? 0, keyFramesEncoded: s.keyFramesEncoded ?? 0,
          bytesSent: s.bytesSent ?? 0, targetBitrate: s.targetBitrate ?? null, framesPerSecond: s.framesPerSecond ?? null,
          active: s.active ?? null, qualityLimitationReason: s.qualityLimitationReason ?? null,
        });
      } else if (s.type === 'outbound-rtp' && s.kind === 'audio') {
        out.outbound.audio.packetsSent += s.packetsSent ?? 0;
        out.outbound.audio.bytesSent = (out.outbound.audio.bytesSent ?? 0) + (s.bytesSent ?? 0);
      }
    });
    // The selected candidate pair (one per PeerConnection with max-bundle): whole-connection bytes.
    // Chromium names it in the transport stats; Firefox has no transport stats but marks the pair
    // (its non-standard `selected`).
    let pair = null;
    report.forEach((s) => { if (s.type === 'transport' && s.selectedCandidatePairId) pair = report.get(s.selectedCandidatePairId) ?? pair; });
    if (!pair) report.forEach((s) => { if (s.type === 'candidate-pair' && s.selected === true) pair = s; });
    if (!pair) report.forEach((s) => { if (s.type === 'candidate-pair' && s.state === 'succeeded' && (!pair || s.bytesReceived > pair.bytesReceived)) pair = s; });
    if (pair) {
      const candidate = (id) => {
        const c = report.get(id);
        return c ? { address: c.address ?? c.ip ?? null, port: c.port ?? null, type: c.candidateType ?? null, protocol: c.protocol ?? null } : null;
      };
      out.transport = { bytesReceived: pair.bytesReceived ?? 0, bytesSent: pair.bytesSent ?? 0,
        availableOutgoingBitrate: pair.availableOutgoingBitrate ?? null, currentRoundTripTime: pair.currentRoundTripTime ?? null,
        local: candidate(pair.localCandidateId), remote: candidate(pair.remoteCandidateId), nominated: pair.nominated ?? null };
    }
    return out;
  }

  async function stats(id) {
    const entry = sessions.get(String(id));
    if (!entry) throw new Error(`no session ${id}`);
    const s = await readStats(entry.pc);
    s.role = entry.role;
    s.firstFrameMs = entry.timing.firstFrameMs ?? null;
    return s;
  }

  // ICE restart over WHIP/WHEP PATCH (RFC 9725 §4.3.2): send our new ICE credentials as an
  // sdpfrag, take the server's new ones from the 200 answer into the remote description.
  async function restartIce(id) {
    const entry = sessions.get(String(id));
    if (!entry) throw new Error(`no session ${id}`);
    const offer = await entry.pc.createOffer({ iceRestart: true });
    await entry.pc.setLocalDescription(offer);
    const attr = (sdp, name) => (new RegExp(`a=${name}:([^\\r\\n]+)`).exec(sdp) || [])[1];
    const frag = `a=ice-ufrag:${attr(offer.sdp, 'ice-ufrag')}\r\na=ice-pwd:${attr(offer.sdp, 'ice-pwd')}\r\n`;
    const res = await fetch(entry.location, {
      method: 'PATCH', headers: { 'Content-Type': 'application/trickle-ice-sdpfrag', 'If-Match': '*' }, body: frag,
    });
    const body = await res.text();
    if (res.status !== 200) return { status: res.status, body };
    const ufrag = attr(body, 'ice-ufrag');
    const pwd = attr(body, 'ice-pwd');
    const answer = entry.answer.replace(/a=ice-ufrag:[^\r\n]+/g, `a=ice-ufrag:${ufrag}`)
      .replace(/a=ice-pwd:[^\r\n]+/g, `a=ice-pwd:${pwd}`);
    await entry.pc.setRemoteDescription({ type: 'answer', sdp: answer });
    entry.answer = answer;
    return { status: 200, ufrag, clientUfrag: attr(offer.sdp, 'ice-ufrag') };
  }

  // DELETE the WHIP/WHEP session (RFC 9725 §4.2) and close the PeerConnection. Returns the HTTP status.
  async function close(id) {
    const entry = sessions.get(String(id));
    if (!entry) return null;
    entry.closed = true;
    sessions.delete(String(id));
    let status = null;
    try { status = (await fetch(entry.location, { method: 'DELETE' })).status; } catch (e) { status = `error: ${e.message}`; }
    entry.pc.close();
    if (entry.media) entry.media.getTracks().forEach((t) => t.stop());
    if (entry.video) entry.video.remove();
    return status;
  }

  // Self-test without a server: fake camera -> pc1 -> pc2 in this page; returns pc2's session id so
  // the caller can read stats() on the receiving side.
  async function loopback() {
    const { pc: sender, media } = await newPublisherPc();
    const receiver = new RTCPeerConnection({ bundlePolicy: 'max-bundle' });
    const remote = new MediaStream();
    receiver.addEventListener('track', (ev) => remote.addTrack(ev.track));
    sender.addEventListener('icecandidate', (ev) => ev.candidate && receiver.addIceCandidate(ev.candidate));
    receiver.addEventListener('icecandidate', (ev) => ev.candidate && sender.addIceCandidate(ev.candidate));
    await sender.setLocalDescription(await sender.createOffer());
    await receiver.setRemoteDescription(sender.localDescription);
    await receiver.setLocalDescription(await receiver.createAnswer());
    await sender.setRemoteDescription(receiver.localDescription);
    const entry = { pc: receiver, role: 'viewer', location: null, timing: {} };
    const id = register(entry);
    entry.video = attachVideo(id, remote);
    register({ pc: sender, role: 'publisher', location: null, media, timing: {} });
    watchFirstFrame(entry);
    return { id };
  }

  // POST {session}/layer {"layer": "q" | "h" | "f" | "auto"}: the viewer's highest simulcast layer.
  // Returns { status, body }.
  async function setLayer(id, layer) {
    const entry = sessions.get(String(id));
    if (!entry) throw new Error(`no session ${id}`);
    const res = await fetch(`${entry.location}/layer`, {
      method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ layer }),
    });
    return { status: res.status, body: await res.text() };
  }

  window.strataClient = { publish, watch, stats, close, createOffer, loopback, restartIce, setLayer, sendCodecs };
})();
