import { Document } from "@langchain/core/documents";
import { AUDIO_EXTENSIONS, decodeAudio } from "../src/multimodal/decodeAudio.js";
import {
  formatTimeSpan,
  type SpeechTranscriber,
  type TranscribeTimedOptions,
  transcribeTimed,
} from "../src/multimodal/TransformersJsTranscriber.js";
import { type FileContext, fileMetadata, fileTitle } from "./FileContext.js";
import { fileError } from "./fileError.js";

export { AUDIO_EXTENSIONS };

export interface AudioLoadOptions extends TranscribeTimedOptions {
  /** The speech model; without one, audio files are reported as unsupported. */
  transcriber?: SpeechTranscriber;
  /** Seconds of audio a file may decode to (LoadLimits.maxAudioSeconds); longer ones are TOO_LARGE. */
  maxSeconds?: number;
}

/**
 * An audio file becomes one document per timed window of its transcript, with the span
 * in metadata (`timeStart`, `timeEnd` in seconds and `timeSpan` "t=01:23–01:41"), so a
 * citation points at the moment it quotes.
 */
export async function loadAudio(
  ctx: FileContext,
  bytes: Uint8Array,
  options: AudioLoadOptions = {},
): Promise<Document[]> {
  if (!options.transcriber) {
    throw fileError(
      "UNSUPPORTED_FILE",
      ctx.absPath,
      "audio needs a speech model (set multimodal.speechModel to a transformers.js Whisper model)",
    );
  }
  const samples = await decodeAudio(bytes, ctx.absPath, options.transcriber.sampleRate, options.maxSeconds);
  const segments = await transcribeTimed(options.transcriber, samples, options);
  const title = fileTitle(ctx);
  return segments.map(
    (segment) =>
      new Document({
        pageContent: segment.text,
        metadata: {
          ...fileMetadata(ctx, "audio", title),
          timeStart: segment.start,
          timeEnd: segment.end,
          timeSpan: formatTimeSpan(segment.start, segment.end),
        },
      }),
  );
}
