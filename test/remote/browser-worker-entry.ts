import { remoteChecks } from "./browser-checks.js";

self.onmessage = async (event: MessageEvent<{ url: string; token: string }>) => {
  try {
    self.postMessage(await remoteChecks(event.data.url, event.data.token));
  } catch (e) {
    self.postMessage({ failure: String(e) });
  }
};
