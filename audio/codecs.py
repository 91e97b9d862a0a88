"""Codecs for browsers: MP3 (every browser) and Ogg/Opus (a second <source>), with no metadata.

Both are constant bit rate, so a file's size depends on its duration alone: equal durations give
byte-for-byte equal sizes, and a Content-Length cannot hint at the music or its source. No tags
are written (no ID3, no Xing/LAME header, no Vorbis comments, no encoder string), and the Ogg
stream is written bit-exact so its serial number carries nothing either.
"""

import io
from dataclasses import dataclass

import av
import lameenc
import numpy as np

OPUS_RATE = 48000  # Opus only codes 8, 12, 16, 24 and 48 kHz; 48 kHz keeps the full band


@dataclass(frozen=True)
class EncodingSpec:
    """Bit rates (kbit/s) and encoder effort. LAME quality 7 and Opus complexity 3 take a
    third of the top settings' time, and at these rates a mono piano stays transparent."""

    mp3_kbps: int = 128
    mp3_quality: int = 7
    opus_kbps: int = 96
    opus_complexity: int = 3


def to_pcm16(audio: np.ndarray) -> np.ndarray:
    """16-bit PCM, rounded to nearest; 16-bit input is passed through, so a caller encoding one
    signal twice converts it once. Scaled, then clipped, in place: the same numbers as clipping
    first (the scale is monotonic and maps 1.0 to 32767 exactly), in one temporary array."""
    if audio.dtype == np.dtype("<i2"):
        return audio
    scaled = np.multiply(audio, 32767)
    np.clip(scaled, -32767, 32767, out=scaled)
    return np.rint(scaled, out=scaled).astype("<i2")


def encode_mp3(audio: np.ndarray, sample_rate: int, spec: EncodingSpec) -> bytes:
    """Bare MPEG-1 Layer III frames of mono audio (float in [-1, 1], or 16-bit PCM)."""
    encoder = lameenc.Encoder()
    encoder.set_bit_rate(spec.mp3_kbps)
    encoder.set_in_sample_rate(sample_rate)
    encoder.set_channels(1)
    encoder.set_quality(spec.mp3_quality)
    return bytes(encoder.encode(to_pcm16(audio).tobytes()) + encoder.flush())


def encode_opus(audio: np.ndarray, sample_rate: int, spec: EncodingSpec) -> bytes:
    """Mono Opus in Ogg, hard constant bit rate (float in [-1, 1], or 16-bit PCM)."""
    if sample_rate != OPUS_RATE:
        raise ValueError(f"Opus stimuli need {OPUS_RATE} Hz audio, got {sample_rate} Hz")
    buffer = io.BytesIO()
    with av.open(buffer, "w", format="ogg", options={"fflags": "+bitexact"}) as container:
        stream = container.add_stream(
            "libopus",
            rate=sample_rate,
            layout="mono",
            options={"vbr": "off", "compression_level": str(spec.opus_complexity)},
        )
        stream.bit_rate = spec.opus_kbps * 1000
        stream.codec_context.flags |= av.codec.context.Flags.bitexact
        frame = av.AudioFrame.from_ndarray(to_pcm16(audio)[None, :], format="s16", layout="mono")
        frame.sample_rate = sample_rate
        frame.pts = 0
        for packet in stream.encode(frame):
            container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    return buffer.getvalue()
