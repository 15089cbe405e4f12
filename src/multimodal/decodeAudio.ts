import audioType from "audio-type";
import { GeneraError } from "../errors.js";

/** Audio files the speech loader reads (decoded in WebAssembly by the decoders audio-decode uses). */
export const AUDIO_EXTENSIONS = [".wav", ".mp3", ".flac", ".ogg"];

/**
 * Seconds of audio one file or recording may decode to. Decoded audio is held whole (an hour at
 * 48 kHz is ~700 MB of samples) and compressed audio inflates far more than its size suggests:
 * silence in FLAC costs ~12 bytes per 85 ms, so 1 MB decodes to two hours.
 */
export const DEFAULT_MAX_AUDIO_SECONDS = 3600;
/** Compressed bytes handed to a decoder at a time: what one call can inflate to stays small. */
const FEED_BYTES = 4096;

interface Decoded {
  channelData: Float32Array[];
  samplesDecoded: number;
  sampleRate: number;
}

/** The streaming decoders of the compressed formats (each takes its input a piece at a time). */
interface StreamDecoder {
  ready: Promise<void>;
  decode(data: Uint8Array): Decoded | Promise<Decoded>;
  /** What the decoder still holds (FLAC keeps the last frame until it sees the next). */
  flush?(): Decoded | Promise<Decoded>;
  free(): void | Promise<void>;
}

async function streamDecoder(type: string | undefined): Promise<StreamDecoder | undefined> {
  switch (type) {
    case "mp3":
      return new (await import("mpg123-decoder")).MPEGDecoder();
    case "flac":
      return new (await import("@wasm-audio-decoders/flac")).FLACDecoder();
    case "oga":
      return new (await import("@wasm-audio-decoders/ogg-vorbis")).OggVorbisDecoder();
    case "opus":
      return new (await import("ogg-opus-decoder")).OggOpusDecoder();
    default:
      return undefined;
  }
}

function unreadable(label: string, error: unknown): GeneraError {
  const reason = `corrupt or unsupported audio (${error instanceof Error ? error.message : String(error)})`;
  return new GeneraError("FILE_UNREADABLE", `Cannot load ${label}: ${reason}`, {
    cause: error,
    details: { path: label, reason },
  });
}

function tooLong(label: string, maxSeconds: number): GeneraError {
  const reason = `decodes to more than ${maxSeconds} seconds of audio`;
  return new GeneraError("TOO_LARGE", `Cannot load ${label}: it ${reason}`, { details: { path: label, reason } });
}

/** The channels of one decoded piece averaged into one. */
function mono({ channelData, samplesDecoded }: Decoded): Float32Array {
  const out = new Float32Array(samplesDecoded);
  for (const channel of channelData) {
    for (let i = 0; i < samplesDecoded; i++) out[i] = (out[i] as number) + (channel[i] as number) / channelData.length;
  }
  return out;
}

/**
 * Decodes WAV, MP3, FLAC or Ogg Vorbis/Opus bytes to mono samples at `sampleRate` (speech
 * models want 16 kHz): channels are averaged, then resampled linearly. A corrupt or unknown file
 * is FILE_UNREADABLE naming it; one longer than `maxSeconds` is TOO_LARGE, found while decoding
 * (compressed formats are fed to their decoder a few KiB at a time), before it fills memory.
 */
export async function decodeAudio(
  bytes: Uint8Array,
  label: string,
  sampleRate: number,
  maxSeconds = DEFAULT_MAX_AUDIO_SECONDS,
): Promise<Float32Array> {
  const input = new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let decoder: StreamDecoder | undefined;
  const pieces: Float32Array[] = [];
  let samples = 0;
  let rate = 0;
  try {
    // Copies with their own ArrayBuffer: audio-type and audio-decode read `.buffer` from its start.
    decoder = await streamDecoder(audioType(input.slice(0, 1 << 16)));
    if (decoder) {
      await decoder.ready;
      for (let at = 0; at <= input.length; at += FEED_BYTES) {
        const piece =
          at < input.length ? await decoder.decode(input.subarray(at, at + FEED_BYTES)) : await decoder.flush?.();
        if (!piece?.samplesDecoded) continue;
        rate = piece.sampleRate;
        samples += piece.samplesDecoded;
        if (samples > maxSeconds * rate) throw tooLong(label, maxSeconds);
        pieces.push(mono(piece));
      }
    } else {
      // WAV (and whatever else audio-decode reads) inflates at most 4× (8-bit PCM to float32).
      const { default: decode } = await import("audio-decode");
      const decoded = await decode(input.slice());
      const channelData = Array.from({ length: decoded.numberOfChannels }, (_, c) => decoded.getChannelData(c));
      rate = decoded.sampleRate;
      samples = decoded.length;
      if (samples > maxSeconds * rate) throw tooLong(label, maxSeconds);
      pieces.push(mono({ channelData, samplesDecoded: decoded.length, sampleRate: rate }));
    }
  } catch (error) {
    throw error instanceof GeneraError ? error : unreadable(label, error);
  } finally {
    await decoder?.free();
  }
  if (samples === 0) throw unreadable(label, new Error("no audio frames found"));
  const all = new Float32Array(samples);
  let offset = 0;
  for (const piece of pieces) {
    all.set(piece, offset);
    offset += piece.length;
  }
  return resample(all, rate, sampleRate);
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
