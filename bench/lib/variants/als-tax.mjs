// OFF plus one enabled AsyncLocalStorage, nothing else: isolates what Node's async hooks
// (installed once any AsyncLocalStorage is in use, on Node < 24) cost the app by themselves.
// Each request runs in its own store, as a context manager would run it. The service's own
// instrument.js still loads (with OTEL_SDK_DISABLED=true it starts nothing), so the only
// difference from "off" is the store.
import { AsyncLocalStorage } from 'node:async_hooks';
import http from 'node:http';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const storage = new AsyncLocalStorage();
const emit = http.Server.prototype.emit;
http.Server.prototype.emit = function (event, ...args) {
  if (event !== 'request') return emit.call(this, event, ...args);
  return storage.run({ request: args[0] }, () => emit.call(this, event, ...args));
};
await import(pathToFileURL(path.resolve('dist/src/instrument.js')).href);
