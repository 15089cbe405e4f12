import { decodeAudio } from "./decodeAudio.js";
import type { SpeechTranscriber } from "./TransformersJsTranscriber.js";

/** Speech to text for a recording someone sent (a spoken question): its bytes and a name for errors. */
export type TranscribeAudio = (bytes: Uint8Array, label: string) => Promise<string>;

/** Largest recording accepted (encoded bytes): about five minutes of 16 kHz WAV. */
export const MAX_RECORDING_BYTES = 10 * 1024 * 1024;

/**
 * A recording (WAV, MP3, FLAC, Ogg) as one text: decoded to the model's rate and transcribed
 * window by window as indexed audio is (transcribeTimed), so a question longer than the
 * model's 30-second window is heard whole. A corrupt recording is FILE_UNREADABLE.
 */
export function recordingTranscriber(transcriber: SpeechTranscriber): TranscribeAudio {
  return async (bytes, label) => {
    // Loaded on first use: the chat routes import this file, and transformers.js is heavy.
    const { transcribeTimed } = await import("./TransformersJsTranscriber.js");
    const samples = await decodeAudio(bytes, label, transcriber.sampleRate);
    const windows = await transcribeTimed(transcriber, samples);
    return windows
      .map((w) => w.text)
      .join(" ")
      .trim();
  };
}
