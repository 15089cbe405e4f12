/** `genera/server`: the chat server as a library (Express app, start/stop, the session stores). */
export type { ChatMessageRecord, ChatSessions, SessionSummary } from "./ChatSessions.js";
export { type AppOptions, createApp } from "./createApp.js";
export { PostgresSessionStore, type PostgresSessionStoreOptions } from "./PostgresSessionStore.js";
export { SessionStore } from "./SessionStore.js";
export { openChatSessions, type RunningServer, type StartServerOptions, startServer } from "./startServer.js";
