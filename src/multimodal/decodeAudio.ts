import { GeneraError } from "../errors.js";

/** Audio files the speech loader reads (decoded by the npm package audio-decode, in WebAssembly). */
export const AUDIO_EXTENSIONS = [".wav", ".mp3", ".flac", ".ogg"];

/**
 * Decodes WAV, MP3, FLAC or Ogg Vorbis/Opus bytes to mono samples at `sampleRate` (speech
 * models want 16 kHz): channels are averaged, then resampled linearly. A corrupt or
 * unknown file is FILE_UNREADABLE naming it.
 */
export async function decodeAudio(bytes: Uint8Array, label: string, sampleRate: number): Promise<Float32Array> {
  let decoded: {
    sampleRate: number;
    numberOfChannels: number;
    length: number;
    getChannelData(c: number): Float32Array;
  };
  try {
    const { default: decode } = await import("audio-decode");
    decoded = await decode(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  } catch (error) {
    const reason = `corrupt or unsupported audio (${error instanceof Error ? error.message : String(error)})`;
    throw new GeneraError("FILE_UNREADABLE", `Cannot load ${label}: ${reason}`, {
      cause: error,
      details: { path: label, reason },
    });
  }
  const mono = new Float32Array(decoded.length);
  for (let c = 0; c < decoded.numberOfChannels; c++) {
    const channel = decoded.getChannelData(c);
    for (let i = 0; i < mono.length; i++)
      mono[i] = (mono[i] as number) + (channel[i] as number) / decoded.numberOfChannels;
  }
  return resample(mono, decoded.sampleRate, sampleRate);
}

/** Linear interpolation between neighbouring samples: enough for speech models, which low-pass at 8 kHz. */
export function resample(samples: Float32Array, from: number, to: number): Float32Array {
  if (from === to) return samples;
  const out = new Float32Array(Math.round((samples.length * to) / from));
  const step = from / to;
  for (let i = 0; i < out.length; i++) {
    const at = i * step;
    const left = Math.floor(at);
    const right = Math.min(left + 1, samples.length - 1);
    const t = at - left;
    out[i] = (samples[left] as number) * (1 - t) + (samples[right] as number) * t;
  }
  return out;
}
