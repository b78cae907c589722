"""A synthetic audio source for aiortc publishers (interop and cluster tests)."""
import asyncio
import fractions
import math
import time

import numpy as np
from aiortc import MediaStreamTrack
from av import AudioFrame


class ToneAudioTrack(MediaStreamTrack):
    """20 ms frames of a sine (440 Hz by default) at 48 kHz mono, paced in real time;
    amplitude 0 is silence."""
    kind = "audio"
    RATE, SAMPLES = 48000, 960

    def __init__(self, amplitude=8000, freq=440.0):
        super().__init__()
        self.amplitude, self.freq = amplitude, freq
        self.pts = 0
        self.start = None

    async def recv(self):
        if self.start is None:
            self.start = time.monotonic()
        wait = self.start + self.pts / self.RATE - time.monotonic()
        if wait > 0:
            await asyncio.sleep(wait)
        t = (np.arange(self.SAMPLES) + self.pts) / self.RATE
        samples = (np.sin(2 * math.pi * self.freq * t) * self.amplitude).astype(np.int16)
        frame = AudioFrame.from_ndarray(samples.reshape(1, -1), format="s16", layout="mono")
        frame.sample_rate = self.RATE
        frame.pts = self.pts
        frame.time_base = fractions.Fraction(1, self.RATE)
        self.pts += self.SAMPLES
        return frame
