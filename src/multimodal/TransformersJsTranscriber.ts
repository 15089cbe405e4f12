import type { AutomaticSpeechRecognitionPipeline } from "@huggingface/transformers";
import { GeneraError } from "../errors.js";
import {
  loadTransformersJs,
  type TransformersJsModelOptions,
  TransformersJsModelSource,
} from "../util/TransformersJsModelSource.js";

/** What was said between `start` and `end` seconds. */
export interface TimedText {
  start: number;
  end: number;
  text: string;
}

/** Speech to text, one window of mono samples at `sampleRate` at a time. */
export interface SpeechTranscriber {
  readonly sampleRate: number;
  transcribe(samples: Float32Array): Promise<string>;
  close?(): Promise<void>;
}

export interface TransformersJsTranscriberParams extends TransformersJsModelOptions {
  /** Spoken language for multilingual Whisper models (e.g. "english"); English-only models take none. */
  language?: string;
}

/**
 * A transformers.js speech recognition model (Whisper-style: "Xenova/whisper-tiny.en",
 * "onnx-community/whisper-base"…) as a transcriber of 16 kHz mono audio. Offline by
 * default, found as TransformersJsModelSource says; a missing model is MODEL_NOT_FOUND.
 */
export class TransformersJsTranscriber implements SpeechTranscriber {
  readonly model: string;
  /** Whisper's feature extractor expects 16 kHz. */
  readonly sampleRate = 16_000;
  private readonly source: TransformersJsModelSource;
  private readonly language?: string;
  private recognizer?: Promise<AutomaticSpeechRecognitionPipeline>;

  constructor(params: TransformersJsTranscriberParams) {
    this.source = new TransformersJsModelSource(params, "Speech model");
    this.model = this.source.model;
    this.language = params.language;
  }

  async transcribe(samples: Float32Array): Promise<string> {
    if (!(samples instanceof Float32Array)) {
      throw new GeneraError("INVALID_INPUT", "transcribe expects mono samples as a Float32Array");
    }
    if (samples.length === 0) return "";
    const recognizer = await this.load();
    const output = (await recognizer(samples, this.language ? { language: this.language } : {})) as { text: string };
    return output.text.trim();
  }

  async close(): Promise<void> {
    const recognizer = this.recognizer;
    this.recognizer = undefined;
    if (recognizer) await (await recognizer.catch(() => undefined))?.dispose();
  }

  private load(): Promise<AutomaticSpeechRecognitionPipeline> {
    if (!this.recognizer) {
      this.recognizer = this.source.load(
        async () =>
          (await (
            await loadTransformersJs()
          ).pipeline(
            "automatic-speech-recognition",
            this.model,
            this.source.pretrainedOptions(),
          )) as AutomaticSpeechRecognitionPipeline,
      );
      this.recognizer.catch(() => {
        this.recognizer = undefined;
      });
    }
    return this.recognizer;
  }
}

export interface TranscribeTimedOptions {
  /** Longest window given to the model at once, in seconds (Whisper reads 30 s; default 20). */
  windowSeconds?: number;
}

/**
 * Transcribes long audio as timed windows: each window ends at the quietest 50 ms in its
 * last quarter, so a cut falls between words rather than through one, and each gives
 * one TimedText (silent windows give none). The spans are what citations point at.
 */
export async function transcribeTimed(
  transcriber: SpeechTranscriber,
  samples: Float32Array,
  options: TranscribeTimedOptions = {},
): Promise<TimedText[]> {
  const rate = transcriber.sampleRate;
  const windowSeconds = options.windowSeconds ?? 20;
  if (!(windowSeconds > 1))
    throw new GeneraError("INVALID_INPUT", `windowSeconds must be above 1, got ${windowSeconds}`);
  const window = Math.floor(windowSeconds * rate);
  const frame = Math.floor(rate / 20);
  const out: TimedText[] = [];
  for (let start = 0; start < samples.length; ) {
    let end = Math.min(samples.length, start + window);
    if (end < samples.length) end = quietestCut(samples, end - Math.floor(window / 4), end, frame);
    const text = await transcriber.transcribe(samples.subarray(start, end));
    if (text) out.push({ start: start / rate, end: end / rate, text });
    start = end;
  }
  return out;
}

/** The start of the lowest-energy frame in [from, to): where to cut. */
function quietestCut(samples: Float32Array, from: number, to: number, frame: number): number {
  let best = to;
  let bestEnergy = Number.POSITIVE_INFINITY;
  for (let at = from; at + frame <= to; at += frame) {
    let energy = 0;
    for (let i = at; i < at + frame; i++) energy += (samples[i] as number) ** 2;
    if (energy < bestEnergy) {
      bestEnergy = energy;
      best = at + Math.floor(frame / 2);
    }
  }
  return best;
}

/** "t=01:23–01:41": the span a citation of a timed chunk shows (hours only when needed). */
export function formatTimeSpan(start: number, end: number): string {
  const clock = (seconds: number) => {
    const s = Math.floor(seconds);
    const hh = Math.floor(s / 3600);
    const mm = String(Math.floor((s % 3600) / 60)).padStart(2, "0");
    const ss = String(s % 60).padStart(2, "0");
    return hh > 0 ? `${hh}:${mm}:${ss}` : `${mm}:${ss}`;
  };
  return `t=${clock(start)}–${clock(end)}`;
}
