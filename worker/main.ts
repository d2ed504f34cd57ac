/**
 * The engine's worker entry: builds the browser engine and serves it on every
 * port a page connects (`{ "libsql-web:connect": port }`) and every channel a
 * page opens on the worker's own messages (`worker-channel.ts`): the hot
 * calls as compact messages of our own, every other call with comlink.
 * `openWorkerTransport` starts one per client by default; to share one, start
 * it yourself (with Vite: `import EngineWorker from "libsql-web/worker?worker"`,
 * then `new EngineWorker()`) and pass it as `worker`.
 */
import { expose, type TransferHandler, transfer, transferHandlers } from "comlink";
import { errorThrowHandler, type ThrowHandler } from "../src/worker/error-codec.js";
import { serveHotCalls } from "../src/worker/serve-hot-calls.js";
import { type ChannelPort, WorkerChannels } from "../src/worker/worker-channel.js";
import { CONNECT_MESSAGE } from "../src/worker/worker-protocol.js";
import { createBrowserEngine } from "./browser/create-browser-engine.js";
import { exposedApi } from "./browser/exposed-api.js";

transferHandlers.set(
  "throw",
  errorThrowHandler(transferHandlers.get("throw") as unknown as ThrowHandler) as unknown as TransferHandler<
    unknown,
    unknown
  >,
);

const engine = createBrowserEngine();
const api = exposedApi(engine, transfer);

/** Serves a page's port or channel: the hot calls, and comlink for the rest. */
const serve = (port: MessagePort | ChannelPort) => expose(api, serveHotCalls(port, engine));
const channels = new WorkerChannels((message, moved) => postMessage(message, moved), serve);

addEventListener("message", (event: MessageEvent) => {
  const data: unknown = event.data;
  if (channels.receive(data)) return;
  const port: unknown = (data as Record<string, unknown> | null)?.[CONNECT_MESSAGE];
  if (port instanceof MessagePort) serve(port);
});
