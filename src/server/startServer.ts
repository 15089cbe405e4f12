import type { Server } from "node:http";
import { join } from "node:path";
import type { Runnable } from "@langchain/core/runnables";
import { createConversationalRagChain } from "../../chains/createConversationalRagChain.js";
import { createRagChain } from "../../chains/createRagChain.js";
import type { KnowledgeBase } from "../../loaders/KnowledgeBase.js";
import type { GeneraConfig } from "../config.js";
import { embeddingsModelId } from "../embeddings/embeddingsModelId.js";
import { createChatModel } from "../llms/createChatModel.js";
import type { ConversationalInput, RagAnswer } from "./ChatService.js";
import { createApp } from "./createApp.js";
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
  log?: (line: string) => void;
}

/** Builds the app over an open knowledge base and listens on the configured host and port. */
export async function startServer({ config, kb, log }: StartServerOptions): Promise<RunningServer> {
  const say = log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const sessions = new SessionStore(join(config.dataDir, "sessions.sqlite"));
  const llm = await createChatModel(config.llm, { embeddings: kb.embeddings });
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
  const { app } = createApp({
    config: config.server,
    kb,
    embeddings: kb.embeddings,
    embeddingsModelId: embeddingsModelId(kb.embeddings),
    ragChain,
    conversationalChain,
    sessions,
    uploadsDir: join(config.dataDir, "uploads"),
    retrievalMode: config.retrieval.mode,
    log: say,
  });

  const server = await new Promise<Server>((resolve, reject) => {
    const s = app.listen(config.server.port, config.server.host, () => resolve(s));
    s.once("error", reject);
  });
  server.keepAliveTimeout = 5_000;
  server.headersTimeout = 10_000;
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : config.server.port;
  const host = config.server.host.includes(":") ? `[${config.server.host}]` : config.server.host;

  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= (async () => {
      // Stop accepting; idle keep-alive sockets go now, busy ones when their response ends.
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      });
      await kb.save();
      sessions.close();
    })();
    return closing;
  };
  return { url: `http://${host}:${port}`, server, close };
}
