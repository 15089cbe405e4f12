import { createServer, type Server } from "node:http";
import { join } from "node:path";
import type { Runnable } from "@langchain/core/runnables";
import { createConversationalRagChain } from "../../chains/createConversationalRagChain.js";
import { createRagChain } from "../../chains/createRagChain.js";
import { recognizedText } from "../../loaders/loadImage.js";
import { createAgentRunner } from "../agents/createAgentRunner.js";
import { createAgentTools } from "../agents/tools/createAgentTools.js";
import { shippedImageGenerators } from "../agents/tools/imageTool.js";
import type { GeneraConfig } from "../config.js";
import { embeddingsModelId } from "../embeddings/embeddingsModelId.js";
import { GeneraError } from "../errors.js";
import type { KnowledgeBase } from "../knowledge/KnowledgeBase.js";
import { createChatModel } from "../llms/createChatModel.js";
import { isExtractiveChatModel } from "../llms/ExtractiveChatModel.js";
import { createCaptioner } from "../multimodal/createImageEmbeddings.js";
import type { ImageIndex } from "../multimodal/ImageIndex.js";
import type { DescribeImage } from "../multimodal/imageContent.js";
import { imageDescriber } from "../multimodal/imageDescriber.js";
import { recordingTranscriber } from "../multimodal/speechQuestion.js";
import type { SpeechTranscriber } from "../multimodal/TransformersJsTranscriber.js";
import { IndexQueue } from "../queue/IndexQueue.js";
import type { ConversationalInput, RagAnswer } from "./ChatService.js";
import type { ChatSessions } from "./ChatSessions.js";
import { createApp, embeddingsHealth } from "./createApp.js";
import { PostgresSessionStore } from "./PostgresSessionStore.js";
import { AGENT_IMAGES_ROUTE } from "./routes/agent.js";
import { SessionStore } from "./SessionStore.js";

export interface RunningServer {
  url: string;
  server: Server;
  /** Stops accepting, lets in-flight requests finish, saves, closes the stores. */
  close: () => Promise<void>;
}

export interface StartServerOptions {
  config: GeneraConfig;
  kb: KnowledgeBase;
  /** The image index beside the text one (closed with the server). */
  images?: ImageIndex;
  log?: (line: string) => void;
}

/**
 * Sessions in the configured database (shared by replicas), else in `<dataDir>/sessions.sqlite`;
 * signed with the key in `server.sessionKeyFile` (default: beside the SQLite file, or
 * `<dataDir>/sessions.key` for Postgres).
 */
export async function openChatSessions(config: GeneraConfig): Promise<ChatSessions> {
  const keyFile = config.server.sessionKeyFile;
  if (config.databaseUrl) {
    return PostgresSessionStore.open({
      url: config.databaseUrl,
      keyFile: keyFile ?? join(config.dataDir, "sessions.key"),
    });
  }
  return new SessionStore(join(config.dataDir, "sessions.sqlite"), { keyFile });
}

/** Builds the app over an open knowledge base and listens on the configured host and port. */
export async function startServer({ config, kb, images, log }: StartServerOptions): Promise<RunningServer> {
  const say = log ?? ((line: string) => process.stderr.write(`${line}\n`));
  // Both SQLite files are checked now, not at the first request: a damaged session store
  // stops the start with INDEX_CORRUPT naming the file; a damaged cache is set aside and rebuilt.
  const sessions = await openChatSessions(config);
  let queue: IndexQueue | undefined;
  try {
    // Replicas hand uploads to the workers through the queue (docs/deployment.md).
    queue = config.queue.url ? await IndexQueue.open(config.queue.url) : undefined;
  } catch (error) {
    await sessions.close();
    throw error;
  }
  const cache = embeddingsHealth(kb.embeddings);
  if (!cache.ok) say(`genera: the embedding cache is ${cache.detail}`);
  const llm = await createChatModel(config.llm, { embeddings: kb.embeddings });
  const speech = await speechModel(config);
  const retriever = kb.asRetriever({ k: config.retrieval.k, mode: config.retrieval.mode });
  const ragChain = createRagChain({ retriever, llm, embeddings: kb.embeddings }) as unknown as Runnable<
    { question: string },
    RagAnswer
  >;
  const conversationalChain = createConversationalRagChain({
    retriever,
    llm,
    embeddings: kb.embeddings,
  }) as unknown as Runnable<ConversationalInput, RagAnswer>;
  // The agent draws with the image generators genera ships; its pictures are served back by URL.
  const imageGenerators = shippedImageGenerators();
  const agentImagesDir = join(config.dataDir, "agent-images");
  const { app, uploads } = createApp({
    config: config.server,
    kb,
    embeddings: kb.embeddings,
    embeddingsModelId: embeddingsModelId(kb.embeddings),
    ragChain,
    conversationalChain,
    sessions,
    uploadsDir: join(config.dataDir, "uploads"),
    retrievalMode: config.retrieval.mode,
    agent: (names) =>
      createAgentRunner({
        model: llm,
        tools: createAgentTools({
          knowledgeBase: kb,
          k: config.retrieval.k,
          roots: config.server.folders,
          generator: isExtractiveChatModel(llm) ? undefined : llm,
          images: imageGenerators.length
            ? { models: imageGenerators, outDir: agentImagesDir, urlPrefix: AGENT_IMAGES_ROUTE }
            : undefined,
          names,
        }),
      }),
    agentImagesDir,
    images,
    describeImage: await messageImageDescriber(config),
    queue,
    transcribeAudio: speech ? recordingTranscriber(speech) : undefined,
    vision: config.llm.vision,
    log: say,
  });

  let server: Server;
  try {
    server = await listen(createServer(app), config.server.host, config.server.port);
  } catch (error) {
    await uploads.stop();
    await sessions.close();
    throw error;
  }
  server.keepAliveTimeout = 5_000;
  server.headersTimeout = 10_000;
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : config.server.port;
  const host = config.server.host.includes(":") ? `[${config.server.host}]` : config.server.host;

  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= (async () => {
      // Stop accepting; idle keep-alive sockets go now, busy ones when their response ends.
      // The upload job in progress stops at its next batch and resumes at the next start.
      await Promise.all([
        uploads.stop(),
        new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeIdleConnections();
        }),
      ]);
      await kb.save();
      await images?.close();
      await speech?.close?.();
      await sessions.close();
    })();
    return closing;
  };
  return { url: `http://${host}:${port}`, server, close };
}

/**
 * Listens, resolving once the socket is bound. Express 5's `app.listen` hands a bind
 * failure to its callback as an argument, so a taken port looked like success; here it
 * rejects with a GeneraError that names the address.
 */
function listen(server: Server, host: string, port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException) => reject(listenError(error, host, port));
    server.once("error", onError);
    server.listen(port, host, () => {
      server.off("error", onError);
      resolve(server);
    });
  });
}

/** Checks that `host:port` can be bound now (and frees it again), so `genera serve` fails before a long indexing run. */
export async function assertPortFree(host: string, port: number): Promise<void> {
  if (port === 0) return;
  const probe = await listen(createServer(), host, port);
  await new Promise<void>((resolve) => probe.close(() => resolve()));
}

function listenError(error: NodeJS.ErrnoException, host: string, port: number): Error {
  const where = `${host.includes(":") ? `[${host}]` : host}:${port}`;
  const details = { host, port, errno: error.code };
  switch (error.code) {
    case "EADDRINUSE":
      return new GeneraError(
        "PORT_IN_USE",
        `Port ${port} is already in use on ${host} (another server, or another genera?); stop it or choose another with --port or GENERA_PORT`,
        { cause: error, details },
      );
    case "EACCES":
      return new GeneraError(
        "INVALID_INPUT",
        `Not allowed to listen on ${where}: ports below 1024 need privileges; choose another with --port or GENERA_PORT`,
        { cause: error, details },
      );
    case "EADDRNOTAVAIL":
    case "ENOTFOUND":
    case "EAI_AGAIN":
      return new GeneraError(
        "INVALID_INPUT",
        `Cannot listen on ${where}: ${host} is not an address of this machine; choose another with --host or GENERA_HOST`,
        { cause: error, details },
      );
    default:
      return error;
  }
}

/** Images in chat messages are read by OCR, and captioned when a captioning model is configured. */
async function messageImageDescriber(config: GeneraConfig): Promise<DescribeImage> {
  const describe = imageDescriber({ captioner: await createCaptioner(config.multimodal), ocr: recognizedText });
  return (bytes, label) => describe({ absPath: label, relPath: label }, bytes);
}

/** Spoken questions are heard by the configured speech model; without one, POST /api/transcribe is a 501. */
async function speechModel(config: GeneraConfig): Promise<SpeechTranscriber | undefined> {
  const model = config.multimodal.speechModel;
  if (!model) return undefined;
  // transformers.js loads only when a speech model is configured, and the model at the first question.
  const { TransformersJsTranscriber } = await import("../multimodal/TransformersJsTranscriber.js");
  return new TransformersJsTranscriber({ model, allowRemote: config.multimodal.allowRemote });
}
