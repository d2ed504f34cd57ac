// Makes this worker look like a browser without OPFS: navigator.storage is gone.
// (JavaScript: worker-scope fixtures stay out of the page's DOM-typed TypeScript program.)
Object.defineProperty(WorkerNavigator.prototype, "storage", { get: () => undefined, configurable: true });
