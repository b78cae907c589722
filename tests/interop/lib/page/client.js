// In-page WHIP/WHEP client used by the interop tests (runs inside Chromium, and Firefox as a viewer).
// Exposes window.strataClient = { publish, watch, stats, firstFrame, close, createOffer, loopback, restartIce, setLayer,
//   sendCodecs, watchSlots, slotStats, startMonitor, monitorSamples, openEvents, eventLog, closeEvents, leave, requests }.
// Every function returns plain JSON-serialisable values so Playwright's page.evaluate can carry them.
// Times meant to be compared across pages and with Node (event arrival, DELETE sent, POST sent) are
// epoch milliseconds (Date.now()): every page of the machine shares that clock.
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

  // width/height: the camera size asked for, exactly (Chromium's --use-fake-device-for-media-stream
  // honours exact sizes up to 1920x1080). audio: 'device' (the fake microphone), 'tone' (a WebAudio
  // sine of toneHz at toneGain: a host that speaks, RFC 6464 level about -9 dBov at 0.5) or 'silence' (the
  // same graph at gain 0: a host that says nothing, level 127). Returns { media, audioContext }.
  async function fakeMedia({ width = 1280, height = 720, audio = 'device', toneHz = 440, toneGain = 0.5 } = {}) {
    const media = await navigator.mediaDevices.getUserMedia({
      audio: audio === 'device',
      video: { width: { exact: width }, height: { exact: height }, frameRate: { ideal: 30 } },
    });
    let audioContext = null;
    if (audio === 'tone' || audio === 'silence') {
      audioContext = new AudioContext();
      const osc = audioContext.createOscillator();
      osc.frequency.value = toneHz;
      const gain = audioContext.createGain();
      gain.gain.value = audio === 'tone' ? toneGain : 0;
      const dest = audioContext.createMediaStreamDestination();
      osc.connect(gain).connect(dest);
      osc.start();
      if (audioContext.state !== 'running') await audioContext.resume().catch(() => {});
      media.addTrack(dest.stream.getAudioTracks()[0]);
    }
    return { media, audioContext };
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
  // degradation: the video sender's degradationPreference (e.g. 'maintain-resolution', so the
  // encoder keeps the camera size instead of starting lower while its bandwidth estimate ramps).
  // maxBitrates: { q, h, f } in bit/s, each simulcast encoding's maxBitrate (fixes the layers' rates
  // for a source that fills them, e.g. the noisy file of lib/bwe_checks.mjs).
  async function newPublisherPc({ simulcast = false, codec = null, scalabilityMode = null, width, height, audio, toneHz, toneGain,
    degradation = null, maxBitrates = null } = {}) {
    const { media, audioContext } = await fakeMedia({ width, height, audio, toneHz, toneGain });
    const pc = new RTCPeerConnection({ bundlePolicy: 'max-bundle' });
    // Audio first, then video: the order of the m-lines the offer has always had.
    const tracks = [...media.getAudioTracks(), ...media.getVideoTracks()];
    for (const track of tracks) {
      const init = { direction: 'sendonly', streams: [media] };
      if (simulcast && track.kind === 'video') {
        init.sendEncodings = [
          { rid: 'q', scaleResolutionDownBy: 4 }, { rid: 'h', scaleResolutionDownBy: 2 }, { rid: 'f' },
        ];
        if (scalabilityMode) for (const e of init.sendEncodings) e.scalabilityMode = scalabilityMode;
        if (maxBitrates) for (const e of init.sendEncodings) if (maxBitrates[e.rid]) e.maxBitrate = maxBitrates[e.rid];
      }
      const transceiver = pc.addTransceiver(track, init);
      if (codec && track.kind === 'video') {
        const all = RTCRtpSender.getCapabilities('video').codecs;
        const want = all.filter((c) => c.mimeType.toLowerCase() === `video/${codec.toLowerCase()}`);
        if (!want.length) throw new Error(`this browser cannot send ${codec}`);
        transceiver.setCodecPreferences([...want, ...all.filter((c) => !want.includes(c))]);
      }
      if (degradation && track.kind === 'video') {
        const params = transceiver.sender.getParameters();
        params.degradationPreference = degradation;
        await transceiver.sender.setParameters(params);
      }
    }
    return { pc, media, audioContext };
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

  // Every WHIP/WHEP POST this page made: { kind, url, sentAt, status } (epoch ms), so a test can
  // tell that a viewer made no second request.
  const requestLog = [];
  function requests() { return requestLog.slice(); }

  // The events URL of a WHIP/WHEP 201's Link header (rel="urn:ietf:params:whep:ext:core:server-sent-events"),
  // resolved against the response URL, or null. Cross-origin, the header is readable only when the
  // server lists Link in Access-Control-Expose-Headers.
  const SSE_REL = 'urn:ietf:params:whep:ext:core:server-sent-events';
  function eventsUrlFromLink(link, base) {
    if (!link) return null;
    for (const part of link.split(/,(?=\s*<)/)) {
      const m = /^\s*<([^>]*)>(.*)$/.exec(part);
      if (!m) continue;
      const rels = (/;\s*rel="?([^";]+)"?/i.exec(m[2]) || [])[1];
      if (rels && rels.split(/\s+/).includes(SSE_REL)) return new URL(m[1], base).href;
    }
    return null;
  }

  // POST the offer (WHIP or WHEP), return { location, etag, answer, link, eventsUrl, sentAt, answeredAt, sentPerf }.
  // sentPerf: performance.now() taken just before fetch() (the clock of the first-frame timing).
  // Throws with status + body on error.
  async function exchange(serverUrl, kind, stream, offerSdp) {
    const [name, query] = stream.split('?');
    const url = new URL(`/${kind}/${encodeURIComponent(name)}${query ? `?${query}` : ''}`, serverUrl);
    const logged = { kind, url: url.href, sentAt: Date.now(), status: null };
    requestLog.push(logged);
    const sentPerf = performance.now();
    const headers = { 'Content-Type': 'application/sdp' };
    if (accessToken) headers.Authorization = `Bearer ${accessToken}`;
    const res = await fetch(url, { method: 'POST', headers, body: offerSdp });
    const body = await res.text();
    logged.status = res.status;
    logged.finalUrl = res.url;
    logged.redirected = res.redirected;
    if (res.status !== 201) {
      const err = new Error(`${kind.toUpperCase()} POST ${url} -> ${res.status}: ${body.slice(0, 300)}`);
      err.status = res.status;
      err.retryAfter = res.headers.get('Retry-After');
      throw err;
    }
    const locationHeader = res.headers.get('Location');
    if (!locationHeader) throw new Error(`${kind.toUpperCase()} 201 without a readable Location header (CORS: Access-Control-Expose-Headers must list Location)`);
    // After a broker's 307, fetch reports the node's URL in res.url: the session lives there.
    const link = res.headers.get('Link');
    return { location: new URL(locationHeader, res.url || url).href, etag: res.headers.get('ETag'), answer: body,
      link, eventsUrl: eventsUrlFromLink(link, res.url || url), sentAt: logged.sentAt, answeredAt: Date.now(), sentPerf };
  }

  function register(entry) {
    const id = String(nextId++);
    sessions.set(id, entry);
    return id;
  }

  // Options beyond simulcast/codec/scalabilityMode (all optional, see fakeMedia and newPublisherPc):
  // width, height (camera size, default 1280x720), audio ('device' | 'tone' | 'silence'), toneHz,
  // toneGain, degradation (video degradationPreference), maxBitrates ({ q, h, f } bit/s, simulcast).
  // `stream` may carry a query ('live?host=A').
  async function publish(serverUrl, stream, { simulcast = false, codec = null, scalabilityMode = null, width, height, audio, toneHz,
    toneGain, degradation = null, maxBitrates = null } = {}) {
    const { pc, media, audioContext } = await newPublisherPc({ simulcast, codec, scalabilityMode, width, height, audio, toneHz, toneGain,
      degradation, maxBitrates });
    const { sdp, gathered } = await localOffer(pc);
    let ex;
    try {
      ex = await exchange(serverUrl, 'whip', stream, sdp);
    } catch (err) {
      pc.close();
      media.getTracks().forEach((t) => t.stop());
      if (audioContext) audioContext.close().catch(() => {});
      throw err;
    }
    const { location, etag, answer, link, eventsUrl, sentAt, answeredAt } = ex;
    await pc.setRemoteDescription({ type: 'answer', sdp: answer });
    const settings = media.getVideoTracks()[0].getSettings();
    const id = register({ pc, role: 'publisher', location, media, audioContext, answer, eventsUrl, timing: {} });
    return { id, location, etag, gathered, offer: sdp, answer, width: settings.width, height: settings.height, link, eventsUrl, sentAt, answeredAt };
  }

  // Time to the first decoded video frame (the join latency a viewer sees), from two detectors started
  // right after setRemoteDescription resolved:
  //  - rVFC: requestVideoFrameCallback on the session's <video> element(s). Its first callback is the
  //    first frame the element presented; Chromium's metadata for a WebRTC frame carry receiveTime (last
  //    packet of the frame in) and processingDuration (from there to decoded), so that frame was decoded
  //    at receiveTime + processingDuration (performance.now() clock, sub-millisecond). Without those
  //    fields (another browser), the metadata's presentationTime (frame handed to the compositor).
  //  - stats: getStats() framesDecoded polled every FIRST_FRAME_POLL_MS; the first poll that reads > 0
  //    (late by at most the interval plus one getStats() call).
  // Both are upper bounds of the first decode, so the first frame is at the earlier of the two; it is
  // settled when rVFC fired, or 1 s after the stats poll saw a frame if rVFC stays silent (or there is
  // no <video>). timing: srdAt, postAt (the successful POST's fetch() start; null for loopback), and
  // firstFrameAt, firstFrameVia ('rvfc' | 'stats'), statsFrameAt, rvfcDecodedAt, rvfcPresentedAt.
  const FIRST_FRAME_POLL_MS = 10;
  const RVFC_GRACE_MS = 1000;

  function watchFirstFrame(entry, videos = []) {
    const t = entry.timing;
    t.srdAt = performance.now();
    t.postAt ??= null;
    t.pollMs = FIRST_FRAME_POLL_MS;
    t.waiters = [];
    const rvfc = videos.filter((v) => v && typeof v.requestVideoFrameCallback === 'function');
    t.rvfc = rvfc.length > 0;
    const settle = () => {
      if (t.firstFrameAt !== undefined) return;
      const candidates = [['rvfc', t.rvfcDecodedAt], ['stats', t.statsFrameAt]].filter(([, at]) => at !== undefined);
      if (!candidates.length) return;
      const [via, at] = candidates.reduce((a, b) => (b[1] < a[1] ? b : a));
      t.firstFrameAt = at;
      t.firstFrameVia = via;
      t.firstFrameMs = at - t.srdAt;
      for (const w of t.waiters.splice(0)) w();
    };
    for (const video of rvfc) {
      video.requestVideoFrameCallback((now, meta) => {
        if (t.rvfcPresentedAt !== undefined) return;
        t.rvfcPresentedAt = meta.presentationTime ?? now;
        const decoded = (meta.receiveTime !== undefined && meta.processingDuration !== undefined)
          ? meta.receiveTime + meta.processingDuration * 1000 : undefined;
        // A decode time before setRemoteDescription would be nonsense: use the presentation time then.
        t.rvfcDecodedAt = decoded !== undefined && decoded >= t.srdAt && decoded <= t.rvfcPresentedAt + 1 ? decoded : t.rvfcPresentedAt;
        t.rvfcMeta = { receiveTime: meta.receiveTime ?? null, processingDuration: meta.processingDuration ?? null,
          presentationTime: meta.presentationTime ?? null, expectedDisplayTime: meta.expectedDisplayTime ?? null, now,
          width: meta.width, height: meta.height, rtpTimestamp: meta.rtpTimestamp ?? null, presentedFrames: meta.presentedFrames };
        settle();
      });
    }
    let prevCallAt = t.srdAt;
    const poll = async () => {
      if (entry.closed) return;   // runs on after rVFC settled the time, to report its own reading
      const callAt = performance.now();
      const s = await readStats(entry.pc);
      if (s.video.framesDecoded > 0) {
        t.statsFrameAt = performance.now();
        // The frame was decoded between the previous poll's getStats() call and this one's answer.
        t.statsWindowMs = t.statsFrameAt - prevCallAt;
        t.statsCallMs = t.statsFrameAt - callAt;
        if (!t.rvfc) settle();
        else setTimeout(settle, RVFC_GRACE_MS);
        return;
      }
      prevCallAt = callAt;
      if (performance.now() - t.srdAt < 30000) setTimeout(poll, FIRST_FRAME_POLL_MS);
    };
    poll();
  }

  // The first-frame timing of a session (see watchFirstFrame), times in ms: afterSrdMs, afterPostMs
  // (null without a POST), via, and each detector's own reading; all null until it is settled.
  function firstFrameInfo(entry) {
    const t = entry.timing;
    const rel = (at, from) => (at === undefined || at === null || from === undefined || from === null ? null : at - from);
    return {
      afterSrdMs: rel(t.firstFrameAt, t.srdAt), afterPostMs: rel(t.firstFrameAt, t.postAt), via: t.firstFrameVia ?? null,
      srdAfterPostMs: rel(t.srdAt, t.postAt), pollMs: t.pollMs ?? null, rvfc: t.rvfc ?? false,
      statsAfterPostMs: rel(t.statsFrameAt, t.postAt), statsWindowMs: t.statsWindowMs ?? null, statsCallMs: t.statsCallMs ?? null,
      rvfcDecodedAfterPostMs: rel(t.rvfcDecodedAt, t.postAt),
      rvfcPresentedAfterPostMs: rel(t.rvfcPresentedAt, t.postAt), rvfcMeta: t.rvfcMeta ?? null,
    };
  }

  // Resolves with firstFrameInfo() once the session's first frame is settled (rejects after timeoutMs).
  async function firstFrame(id, { timeoutMs = 10000 } = {}) {
    const entry = sessions.get(String(id));
    if (!entry) throw new Error(`no session ${id}`);
    const t = entry.timing;
    if (t.firstFrameAt === undefined) {
      if (!t.waiters) throw new Error(`session ${id} has no first-frame timing (not a viewer)`);
      await new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`session ${id}: no first frame within ${timeoutMs} ms (${JSON.stringify(firstFrameInfo(entry))})`)), timeoutMs);
        t.waiters.push(() => { clearTimeout(timer); resolve(); });
      });
    }
    return firstFrameInfo(entry);
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
    const { location, etag, answer, link, eventsUrl, sentAt, answeredAt, sentPerf } = await exchangeWhenLive(serverUrl, stream, sdp, waitLiveMs);
    const entry = { pc, role: 'viewer', location, answer, eventsUrl, timing: { postAt: sentPerf } };
    const id = register(entry);
    entry.video = attachVideo(id, remote);
    await pc.setRemoteDescription({ type: 'answer', sdp: answer });
    watchFirstFrame(entry, [entry.video]);
    return { id, location, etag, gathered, offer: sdp, answer, link, eventsUrl, sentAt, answeredAt };
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
      } else if (s.type === 'media-source' && s.kind === 'audio') {
        // What the sent audio track carries (0..1; a loud tone ~0.5, silence 0).
        out.outbound.audio.sourceLevel = s.audioLevel ?? null;
        out.outbound.audio.sourceEnergy = s.totalAudioEnergy ?? null;
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
    // First decoded frame (see watchFirstFrame): ms after setRemoteDescription, and after the start of
    // the WHEP POST (null for loopback); null until settled.
    s.firstFrameMs = entry.timing.firstFrameMs ?? null;
    s.firstFrameAfterPostMs = entry.timing.firstFrameAt !== undefined && entry.timing.postAt != null
      ? entry.timing.firstFrameAt - entry.timing.postAt : null;
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
    const r = await leave(id);
    return r ? r.status : null;
  }

  // close() with timing: { status, sentAt, answeredAt } (epoch ms: DELETE sent, its answer read), or
  // null for an unknown id. Stops the session's event readers and monitor too.
  async function leave(id) {
    const entry = sessions.get(String(id));
    if (!entry) return null;
    entry.closed = true;
    sessions.delete(String(id));
    let status = null;
    const sentAt = Date.now();
    try { status = (await fetch(entry.location, { method: 'DELETE' })).status; } catch (e) { status = `error: ${e.message}`; }
    const answeredAt = Date.now();
    entry.pc.close();
    if (entry.media) entry.media.getTracks().forEach((t) => t.stop());
    if (entry.audioContext) entry.audioContext.close().catch(() => {});
    if (entry.video) entry.video.remove();
    for (const v of entry.videos ?? []) v.remove();
    for (const [name, reader] of Object.entries(entry.readers ?? {})) { reader.stop(); finishedLogs.set(`${id}/${name}`, reader.log); }
    if (entry.monitor) entry.monitor.stop = true;
    return { status, sentAt, answeredAt };
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
    watchFirstFrame(entry, [entry.video]);
    return { id };
  }

  // POST {session}/layer {"layer": "q" | "h" | "f" | "auto"}: the viewer's highest simulcast layer;
  // with mid, only that slot's (the slot whose video m-line has that mid). Returns { status, body }.
  async function setLayer(id, layer, mid = null) {
    const entry = sessions.get(String(id));
    if (!entry) throw new Error(`no session ${id}`);
    const res = await fetch(`${entry.location}/layer`, {
      method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(mid === null ? { layer } : { mid, layer }),
    });
    return { status: res.status, body: await res.text() };
  }

  // ---- Lives with several hosts (README, "Lives with several hosts"): slots and the events stream ----

  // A viewer with `slots` slots: per slot one recvonly video transceiver followed by one recvonly
  // audio transceiver (audio: false leaves audio out), so the offer's mids run 0 video, 1 audio,
  // 2 video, 3 audio, ...; one PeerConnection, one WHEP POST. query is appended to the WHEP URL
  // ('exclude=A', 'host=B'). Each slot's tracks play in a <video> of their own.
  // Returns watch()'s fields plus slots: [{ index, mid, audioMid }] (this side's mids, from the offer).
  async function watchSlots(serverUrl, stream, { slots = 2, audio = true, query = '', waitLiveMs = 0 } = {}) {
    const pc = new RTCPeerConnection({ bundlePolicy: 'max-bundle' });
    const pairs = [];
    for (let i = 0; i < slots; i++) {
      const v = pc.addTransceiver('video', { direction: 'recvonly' });
      const a = audio ? pc.addTransceiver('audio', { direction: 'recvonly' }) : null;
      pairs.push({ v, a });
    }
    const { sdp, gathered } = await localOffer(pc);
    let ex;
    try {
      ex = await exchangeWhenLive(serverUrl, query ? `${stream}?${query}` : stream, sdp, waitLiveMs);
    } catch (err) {
      pc.close();
      throw err;
    }
    const { location, etag, answer, link, eventsUrl, sentAt, answeredAt, sentPerf } = ex;
    const entry = { pc, role: 'viewer', location, answer, eventsUrl, timing: { postAt: sentPerf }, pairs, videos: [] };
    const id = register(entry);
    await pc.setRemoteDescription({ type: 'answer', sdp: answer });
    entry.slots = pairs.map(({ v, a }, index) => ({ index, mid: v.mid, audioMid: a ? a.mid : null }));
    for (const [index, { v, a }] of pairs.entries()) {
      const media = new MediaStream([v.receiver.track, ...(a ? [a.receiver.track] : [])]);
      const el = attachVideo(`${id}-${index}`, media);
      entry.videos.push(el);
    }
    watchFirstFrame(entry, entry.videos);
    return { id, location, etag, gathered, offer: sdp, answer, link, eventsUrl, sentAt, answeredAt, slots: entry.slots };
  }

  function pickInbound(report, transceiver) {
    if (!transceiver) return null;
    const trackId = transceiver.receiver.track.id;
    let best = null;
    let count = 0;
    report.forEach((s) => {
      if (s.type !== 'inbound-rtp') return;
      if (!(s.mid === transceiver.mid || (s.mid === undefined && s.trackIdentifier === trackId))) return;
      count++;
      // Several streams on one mid would mean the SSRC changed: keep the one that received last.
      if (!best || (s.lastPacketReceivedTimestamp ?? 0) > (best.lastPacketReceivedTimestamp ?? 0)) best = s;
    });
    return best ? { s: best, count } : null;
  }

  function slotVideo(found, codecs) {
    const s = found?.s ?? {};
    return {
      present: !!found, streams: found?.count ?? 0, ssrc: s.ssrc ?? null, codec: codecs.get(s.codecId) ?? null,
      framesDecoded: s.framesDecoded ?? 0, framesReceived: s.framesReceived ?? 0, framesDropped: s.framesDropped ?? 0,
      frameWidth: s.frameWidth ?? 0, frameHeight: s.frameHeight ?? 0, framesPerSecond: s.framesPerSecond ?? 0,
      freezeCount: s.freezeCount ?? 0, totalFreezesDuration: s.totalFreezesDuration ?? 0, keyFramesDecoded: s.keyFramesDecoded ?? 0,
      packetsReceived: s.packetsReceived ?? 0, packetsLost: s.packetsLost ?? 0, bytesReceived: s.bytesReceived ?? 0,
      pliCount: s.pliCount ?? 0, firCount: s.firCount ?? 0, nackCount: s.nackCount ?? 0,
    };
  }

  function slotAudio(found, codecs) {
    const s = found?.s ?? {};
    return {
      present: !!found, streams: found?.count ?? 0, ssrc: s.ssrc ?? null, codec: codecs.get(s.codecId) ?? null,
      packetsReceived: s.packetsReceived ?? 0, packetsLost: s.packetsLost ?? 0, bytesReceived: s.bytesReceived ?? 0,
      audioLevel: s.audioLevel ?? null, totalAudioEnergy: s.totalAudioEnergy ?? 0, totalSamplesReceived: s.totalSamplesReceived ?? 0,
      concealedSamples: s.concealedSamples ?? 0,
    };
  }

  // Per-slot receive stats of a watchSlots() session: { at (epoch ms), connectionState, transport:
  // { bytesReceived, ... }, slots: [{ index, mid, audioMid, video: {...}, audio: {...} }] }, matched
  // to the transceivers by the inbound-rtp stats' mid (or the receiver's track id).
  async function slotStats(id) {
    const entry = sessions.get(String(id));
    if (!entry) throw new Error(`no session ${id}`);
    if (!entry.pairs) throw new Error(`session ${id} is not a watchSlots() session`);
    const report = await entry.pc.getStats();
    const codecs = new Map();
    report.forEach((s) => { if (s.type === 'codec') codecs.set(s.id, s.mimeType); });
    let pair = null;
    report.forEach((s) => { if (s.type === 'transport' && s.selectedCandidatePairId) pair = report.get(s.selectedCandidatePairId) ?? pair; });
    return {
      at: Date.now(),
      connectionState: entry.pc.connectionState,
      transport: pair ? { bytesReceived: pair.bytesReceived ?? 0, packetsReceived: pair.packetsReceived ?? 0, bytesSent: pair.bytesSent ?? 0 } : null,
      slots: entry.pairs.map(({ v, a }, index) => ({
        index, mid: v.mid, audioMid: a ? a.mid : null,
        video: slotVideo(pickInbound(report, v), codecs), audio: slotAudio(pickInbound(report, a), codecs),
      })),
    };
  }

  // Samples slotStats() every intervalMs inside the page (no round trip through the test driver, so
  // times are exact to the interval): compact rows { at, rx, slots: [{ fd, w, h, fz, kf, vp, ap }] }
  // (frames decoded, width, height, freezes, key frames, video and audio packets). Read them with
  // monitorSamples(id, from).
  function startMonitor(id, { intervalMs = 50, max = 40000 } = {}) {
    const entry = sessions.get(String(id));
    if (!entry) throw new Error(`no session ${id}`);
    if (entry.monitor) entry.monitor.stop = true;
    const mon = entry.monitor = { stop: false, rows: [], dropped: 0 };
    const tick = async () => {
      if (mon.stop || entry.closed) return;
      try {
        const s = await slotStats(id);
        mon.rows.push({ at: s.at, rx: s.transport?.bytesReceived ?? 0, slots: s.slots.map((x) => ({
          fd: x.video.framesDecoded, w: x.video.frameWidth, h: x.video.frameHeight, fz: x.video.freezeCount,
          kf: x.video.keyFramesDecoded, vp: x.video.packetsReceived, ap: x.audio.packetsReceived })) });
        if (mon.rows.length > max) { mon.rows.shift(); mon.dropped++; }
      } catch { /* closing */ }
      setTimeout(tick, intervalMs);
    };
    tick();
    return true;
  }

  // Monitor rows from index `from` on (an index into everything recorded, dropped rows included).
  function monitorSamples(id, from = 0) {
    const entry = sessions.get(String(id));
    const mon = entry?.monitor;
    if (!mon) return { next: from, rows: [] };
    const start = Math.max(0, from - mon.dropped);
    return { next: mon.dropped + mon.rows.length, rows: mon.rows.slice(start) };
  }

  // An incremental text/event-stream parser (HTML, "Server-sent events", parsing an event stream):
  // lines end with CRLF, LF or CR; a blank line dispatches; ':' starts a comment.
  function sseParser(onEvent, onComment) {
    let line = '';
    let afterCR = false;
    let data = [];
    let type = '';
    let lastId = '';
    const endLine = () => {
      const l = line;
      line = '';
      if (l === '') {
        if (data.length) onEvent({ type: type || 'message', data: data.join('\n'), lastEventId: lastId });
        data = [];
        type = '';
        return;
      }
      if (l[0] === ':') { onComment(l.slice(1).trim()); return; }
      const colon = l.indexOf(':');
      const field = colon < 0 ? l : l.slice(0, colon);
      let value = colon < 0 ? '' : l.slice(colon + 1);
      if (value[0] === ' ') value = value.slice(1);
      if (field === 'data') data.push(value);
      else if (field === 'event') type = value;
      else if (field === 'id') lastId = value;
    };
    return (text) => {
      for (const ch of text) {
        if (afterCR && ch === '\n') { afterCR = false; continue; }
        afterCR = false;
        if (ch === '\r') { afterCR = true; endLine(); } else if (ch === '\n') endLine(); else line += ch;
      }
    };
  }

  function newLog(url, via) {
    return { url, via, openedAt: Date.now(), status: null, contentType: null, cacheControl: null, error: null, closed: false, closedAt: null,
      pings: 0, events: [] };
  }

  function pushEvent(log, ev) {
    let json = null;
    try { json = JSON.parse(ev.data); } catch { /* not JSON: kept as text */ }
    log.events.push({ at: Date.now(), type: ev.type, data: ev.data, json, lastEventId: ev.lastEventId ?? '' });
  }

  // Opens the session's events stream (the Link header's URL, or `url`) and records every event with
  // its arrival time (epoch ms). via 'fetch' streams the body through sseParser and records the
  // status and Content-Type; via 'eventsource' uses the browser's EventSource (events named `live`
  // and unnamed ones). `name` keys the reader (default: via), so one session may have both.
  // Resolves when the response headers (fetch) or the open/error (EventSource, ≤ 5 s) are in:
  // { name, url, status, contentType, error }.
  async function openEvents(id, { url = null, via = 'fetch', name = via } = {}) {
    const entry = sessions.get(String(id));
    if (!entry) throw new Error(`no session ${id}`);
    const target = url ?? entry.eventsUrl;
    if (!target) throw new Error(`session ${id}: no events URL (201 without a Link rel="${SSE_REL}", or Link not in Access-Control-Expose-Headers)`);
    entry.readers ??= {};
    if (entry.readers[name]) entry.readers[name].stop();
    const log = newLog(target, via);
    const summary = () => ({ name, url: target, status: log.status, contentType: log.contentType, error: log.error });
    if (via === 'eventsource') {
      const es = new EventSource(target);
      entry.readers[name] = { log, stop: () => { es.close(); log.closed = true; log.closedAt ??= Date.now(); } };
      const onEv = (type) => (ev) => pushEvent(log, { type, data: ev.data, lastEventId: ev.lastEventId });
      es.addEventListener('live', onEv('live'));
      es.addEventListener('message', onEv('message'));
      await new Promise((resolve) => {
        const timer = setTimeout(resolve, 5000);
        es.addEventListener('open', () => { log.status = 200; clearTimeout(timer); resolve(); }, { once: true });
        es.addEventListener('error', () => {
          log.error = `EventSource error (readyState ${es.readyState})`;
          if (es.readyState === EventSource.CLOSED) { log.closed = true; log.closedAt ??= Date.now(); }
          clearTimeout(timer);
          resolve();
        });
      });
      return summary();
    }
    const ctrl = new AbortController();
    entry.readers[name] = { log, stop: () => { ctrl.abort(); log.closed = true; log.closedAt ??= Date.now(); } };
    let res;
    try {
      res = await fetch(target, { headers: { Accept: 'text/event-stream' }, cache: 'no-store', signal: ctrl.signal });
    } catch (err) {
      log.error = `fetch failed: ${err.message}`;
      log.closed = true;
      return summary();
    }
    log.status = res.status;
    log.contentType = res.headers.get('Content-Type');
    log.cacheControl = res.headers.get('Cache-Control');
    if (res.status !== 200 || !res.body) {
      log.error = `HTTP ${res.status}: ${(await res.text().catch(() => '')).slice(0, 300)}`;
      log.closed = true;
      log.closedAt = Date.now();
      return summary();
    }
    const parse = sseParser((ev) => pushEvent(log, ev), (text) => { if (/^ping\b/.test(text)) log.pings++; });
    (async () => {
      const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
      try {
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          parse(value);
        }
      } catch (err) {
        if (!ctrl.signal.aborted) log.error = `stream: ${err.message}`;
      }
      log.closed = true;
      log.closedAt ??= Date.now();
    })();
    return summary();
  }

  // What a reader recorded: { url, via, openedAt, status, contentType, cacheControl, error, closed,
  // closedAt, pings, next, events: [{ at, type, data, json, lastEventId }] from index `from` on }.
  // Readers stay readable after leave()/close() (the session is gone, the log is not).
  const finishedLogs = new Map();
  function eventLog(id, { name = 'fetch', from = 0 } = {}) {
    const entry = sessions.get(String(id));
    const log = entry?.readers?.[name]?.log ?? finishedLogs.get(`${id}/${name}`);
    if (!log) return null;
    return { ...log, next: log.events.length, events: log.events.slice(from) };
  }

  function closeEvents(id, name = 'fetch') {
    const reader = sessions.get(String(id))?.readers?.[name];
    if (!reader) return false;
    reader.stop();
    return true;
  }

  // An access token sent as Authorization: Bearer on WHIP/WHEP POSTs (README, "Access control").
  // fetch() follows a broker's 307 itself, and drops the header if the node is another origin.
  let accessToken = null;
  function setToken(token) { accessToken = token || null; }

  window.strataClient = {
    setToken, publish, watch, stats, firstFrame, close, createOffer, loopback, restartIce, setLayer, sendCodecs,
    watchSlots, slotStats, startMonitor, monitorSamples, openEvents, eventLog, closeEvents, leave, requests,
  };
})();
