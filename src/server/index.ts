/** `genera/server`: the chat server as a library (Express app, start/stop, the SQLite session store). */
export { type AppOptions, createApp } from "./createApp.js";
export { SessionStore } from "./SessionStore.js";
export { type RunningServer, type StartServerOptions, startServer } from "./startServer.js";
