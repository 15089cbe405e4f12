import { GeneraError } from "../errors.js";
import type { ImageText } from "./ImageIndex.js";
import { MAX_RECORDING_BYTES, type TranscribeAudio } from "./speechQuestion.js";

/** A message part as OpenAI's chat format writes it: text, an image by URL, or recorded audio. */
export interface MessageContentPart {
  type: string;
  text?: string;
  image_url?: string | { url: string; detail?: string };
  /** A recording, base64: a spoken question ("wav", "mp3", "flac" or "ogg"). */
  input_audio?: { data?: string; format?: string };
}

export type MessageContent = string | MessageContentPart[] | null | undefined;

/** Largest image accepted inside a message (decoded bytes). */
export const MAX_MESSAGE_IMAGE_BYTES = 10 * 1024 * 1024;

/** Describes an image's bytes: its caption and the text in it (the chat route's OCR + captioner). */
export type DescribeImage = (bytes: Uint8Array, label: string) => Promise<ImageText>;

/** How the parts of a message that are not text are read. */
export interface MessageReaders {
  /** Caption + OCR of an image; without it an image becomes only the note. */
  describe?: DescribeImage;
  /** Speech to text of an `input_audio` part; without it such a part is NOT_IMPLEMENTED (501). */
  transcribe?: TranscribeAudio;
}

/**
 * The text of a message whose parts may include images (`image_url` parts) and recordings
 * (`input_audio` parts, transcribed: a spoken question). An answering model that reads text
 * only gets each image as its caption and OCR text, with a note that this is what stands in
 * for the picture. Images must be inline `data:` URLs: genera fetches nothing from the network.
 */
export async function messageText(content: MessageContent, readers: MessageReaders = {}): Promise<string> {
  if (typeof content === "string") return content;
  if (!content) return "";
  const { describe } = readers;
  const out: string[] = [];
  let images = 0;
  let recordings = 0;
  for (const part of content) {
    if (part.type === "text" || part.type === "input_text") {
      out.push(part.text ?? "");
    } else if (part.type === "input_audio") {
      recordings++;
      out.push(await transcribePart(part, `recording ${recordings}`, readers.transcribe));
    } else if (part.type === "image_url") {
      images++;
      const url = typeof part.image_url === "string" ? part.image_url : part.image_url?.url;
      const label = `image ${images}`;
      const text = describe ? await describe(decodeDataUrl(url, label), label) : {};
      out.push(imageNote(images, text));
    } else {
      throw new GeneraError(
        "INVALID_INPUT",
        `Message part of type "${part.type}" is not supported (text, image_url, input_audio)`,
      );
    }
  }
  return out.join("\n").trim();
}

/**
 * A message for a model that reads images (llm.vision): its text (recordings transcribed) and
 * its images as checked `data:` URLs, to go to the model as image_url parts. A message of
 * images only is asked by what can be read from them (caption and OCR text), so retrieval
 * has words to search with.
 */
export async function messageParts(
  content: MessageContent,
  readers: MessageReaders = {},
): Promise<{ text: string; images: string[] }> {
  if (typeof content === "string" || !content) return { text: content ?? "", images: [] };
  const images: string[] = [];
  const rest: MessageContentPart[] = [];
  for (const part of content) {
    if (part.type !== "image_url") {
      rest.push(part);
      continue;
    }
    const url = typeof part.image_url === "string" ? part.image_url : part.image_url?.url;
    decodeDataUrl(url, `image ${images.length + 1}`);
    images.push(url as string);
  }
  let text = await messageText(rest, readers);
  if (!text && readers.describe) {
    const read = await Promise.all(
      images.map((url, i) => readers.describe!(decodeDataUrl(url, `image ${i + 1}`), `image ${i + 1}`)),
    );
    text = read
      .flatMap((r) => [r.caption, r.ocrText])
      .filter(Boolean)
      .join("\n");
  }
  return { text, images };
}

function imageNote(n: number, text: ImageText): string {
  const said: string[] = [];
  if (text.caption) said.push(`caption: "${text.caption}"`);
  if (text.ocrText) said.push(`text in it: "${text.ocrText.replace(/\s+/g, " ")}"`);
  const what = said.length ? said.join("; ") : "nothing could be read from it";
  return `[Image ${n}, given as its caption and OCR text because the answering model reads text only: ${what}]`;
}

/** The bytes of a `data:image/…;base64,…` URL; anything else is INVALID_INPUT, a huge one TOO_LARGE. */
export function decodeDataUrl(url: string | undefined, label: string): Uint8Array {
  if (typeof url !== "string" || url === "") {
    throw new GeneraError("INVALID_INPUT", `${label}: image_url needs a url`);
  }
  const match = /^data:(image\/[a-z0-9.+-]+);base64,([a-z0-9+/=\s]*)$/i.exec(url);
  if (!match) {
    const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(url)?.[1] ?? "no scheme";
    throw new GeneraError(
      "INVALID_INPUT",
      `${label}: only inline data:image/…;base64 URLs are accepted (got ${scheme}); genera does not fetch URLs`,
    );
  }
  const base64 = (match[2] as string).replace(/\s+/g, "");
  if ((base64.length * 3) / 4 > MAX_MESSAGE_IMAGE_BYTES) {
    throw new GeneraError("TOO_LARGE", `${label} is larger than ${MAX_MESSAGE_IMAGE_BYTES} bytes`);
  }
  const bytes = Buffer.from(base64, "base64");
  if (bytes.length === 0) throw new GeneraError("INVALID_INPUT", `${label}: the data URL holds no bytes`);
  return bytes;
}

/** The words of an `input_audio` part (base64 bytes of a WAV, MP3, FLAC or Ogg recording). */
async function transcribePart(
  part: MessageContentPart,
  label: string,
  transcribe: TranscribeAudio | undefined,
): Promise<string> {
  const data = part.input_audio?.data;
  if (typeof data !== "string" || data.trim() === "") {
    throw new GeneraError("INVALID_INPUT", `${label}: input_audio needs base64 data`);
  }
  if ((data.length * 3) / 4 > MAX_RECORDING_BYTES) {
    throw new GeneraError("TOO_LARGE", `${label} is larger than ${MAX_RECORDING_BYTES} bytes`);
  }
  if (!transcribe) {
    throw new GeneraError(
      "NOT_IMPLEMENTED",
      "This server has no speech model to hear recordings: set multimodal.speechModel (GENERA_SPEECH_MODEL) to a transformers.js Whisper model",
    );
  }
  const text = await transcribe(Buffer.from(data, "base64"), label);
  if (!text) throw new GeneraError("INVALID_INPUT", `${label}: no speech was heard in it`);
  return text;
}
