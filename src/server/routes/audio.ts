import { extname } from "node:path";
import express, { Router } from "express";
import { z } from "zod";
import { GeneraError } from "../../errors.js";
import type { KnowledgeBase } from "../../knowledge/KnowledgeBase.js";
import { AUDIO_EXTENSIONS } from "../../multimodal/decodeAudio.js";
import { MAX_RECORDING_BYTES, type TranscribeAudio } from "../../multimodal/speechQuestion.js";
import { parseInput } from "../httpErrors.js";

const FileQuery = z.object({ source: z.string().min(1).max(4096) });

const AUDIO_TYPES: Record<string, string> = {
  ".wav": "audio/wav",
  ".mp3": "audio/mpeg",
  ".flac": "audio/flac",
  ".ogg": "audio/ogg",
};

/**
 * GET /audio/file?source=… serves an indexed recording, so a citation of a timed chunk can
 * be played from its start (the browser asks for byte ranges; sendFile answers them).
 * Only audio files in the knowledge base are served: a source is a key, never a path.
 *
 * POST /transcribe takes a recording as the body (audio/wav, audio/mpeg, audio/flac or
 * audio/ogg) and answers `{ text }`: the web chat's spoken question, heard by the speech model.
 */
export function audioRouter(kb: KnowledgeBase, transcribe: TranscribeAudio | undefined): Router {
  const router = Router();
  router.get("/audio/file", async (req, res, next) => {
    const { source } = parseInput(FileQuery, req.query, "audio query");
    const matches = (await kb.listSources()).filter(
      (s) => s.source === source && AUDIO_EXTENSIONS.includes(extname(s.id).toLowerCase()),
    );
    if (matches.length === 0) {
      throw new GeneraError("NOT_FOUND", `No indexed recording "${source}"`, { details: { source } });
    }
    // Two indexed files of one name (an upload and a corpus file): the newest is the one cited last.
    const file = matches.sort((a, b) => b.indexedAt.localeCompare(a.indexedAt))[0]!;
    res.setHeader("Cache-Control", "private, max-age=60");
    res.type(AUDIO_TYPES[extname(file.id).toLowerCase()] ?? "application/octet-stream");
    res.sendFile(file.id, (error) => {
      if (error && !res.headersSent) next(new GeneraError("NOT_FOUND", `Recording "${source}" is no longer on disk`));
    });
  });

  router.post(
    "/transcribe",
    express.raw({ type: ["audio/*", "application/octet-stream"], limit: MAX_RECORDING_BYTES }),
    async (req, res) => {
      if (!transcribe) {
        throw new GeneraError(
          "NOT_IMPLEMENTED",
          "This server has no speech model to hear recordings: set multimodal.speechModel (GENERA_SPEECH_MODEL) to a transformers.js Whisper model",
        );
      }
      const body = req.body as unknown;
      if (!Buffer.isBuffer(body) || body.length === 0) {
        throw new GeneraError(
          "INVALID_INPUT",
          "Send the recording as the request body, with Content-Type audio/wav, audio/mpeg, audio/flac or audio/ogg",
        );
      }
      const text = await transcribe(body, "the recording");
      if (!text) throw new GeneraError("INVALID_INPUT", "No speech was heard in the recording");
      res.json({ text });
    },
  );
  return router;
}
