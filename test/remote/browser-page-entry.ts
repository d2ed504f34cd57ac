import { remoteChecks } from "./browser-checks.js";

/** Runs the checks in the page, or in a dedicated worker running `worker.js`. */
Object.assign(globalThis, {
  runInPage: (url: string, token: string) => remoteChecks(url, token),
  runInWorker: (url: string, token: string) =>
    new Promise((resolve, reject) => {
      const worker = new Worker("./worker.js", { type: "module" });
      worker.onmessage = (event) => {
        worker.terminate();
        resolve(event.data);
      };
      worker.onerror = (event) => reject(new Error(event.message));
      worker.postMessage({ url, token });
    }),
});
