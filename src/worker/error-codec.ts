import { ErrorCode, LibsqlBatchError, LibsqlError } from "../errors.js";

/** An error as it crosses `postMessage` between the worker and the page. */
export type EncodedError =
  | {
      kind: "libsql";
      message: string;
      code: string;
      extendedCode: string | undefined;
      rawCode: number | undefined;
      statementIndex: number | undefined;
      cause: EncodedError | undefined;
    }
  | { kind: "range" | "type"; message: string; cause: EncodedError | undefined }
  | { kind: "error"; name: string; message: string; cause: EncodedError | undefined }
  | { kind: "value"; value: unknown };

const MAX_CAUSE_DEPTH = 4;

/** Turns a thrown value into plain data that structured clone keeps whole. */
export function encodeError(error: unknown, depth = 0): EncodedError {
  if (!(error instanceof Error)) return { kind: "value", value: error };
  const cause = "cause" in error && error.cause !== undefined && depth < MAX_CAUSE_DEPTH ? error.cause : undefined;
  const encodedCause = cause === undefined ? undefined : encodeError(cause, depth + 1);
  if (error instanceof LibsqlError) {
    return {
      kind: "libsql",
      message: error.message,
      code: error.code,
      extendedCode: error.extendedCode,
      rawCode: error.rawCode,
      statementIndex: error instanceof LibsqlBatchError ? error.statementIndex : undefined,
      cause: encodedCause,
    };
  }
  if (error instanceof RangeError) return { kind: "range", message: error.message, cause: encodedCause };
  if (error instanceof TypeError) return { kind: "type", message: error.message, cause: encodedCause };
  return { kind: "error", name: error.name, message: error.message, cause: encodedCause };
}

/**
 * Rebuilds the thrown value: `LibsqlError` and `LibsqlBatchError` (with their
 * codes and `statementIndex`), `RangeError` and `TypeError` as themselves;
 * any other error as an `INTERNAL_ERROR`.
 */
export function decodeError(encoded: EncodedError): unknown {
  switch (encoded.kind) {
    case "libsql": {
      const cause = encoded.cause && decodeCause(encoded.cause);
      return encoded.statementIndex === undefined
        ? new LibsqlError(encoded.message, encoded.code, encoded.extendedCode, encoded.rawCode, cause)
        : new LibsqlBatchError(
            encoded.message,
            encoded.statementIndex,
            encoded.code,
            encoded.extendedCode,
            encoded.rawCode,
            cause,
          );
    }
    case "range":
      return new RangeError(encoded.message, { cause: encoded.cause && decodeCause(encoded.cause) });
    case "type":
      return new TypeError(encoded.message, { cause: encoded.cause && decodeCause(encoded.cause) });
    case "error":
      return new LibsqlError(
        `${encoded.name} in the worker: ${encoded.message}`,
        ErrorCode.INTERNAL_ERROR,
        undefined,
        undefined,
        encoded.cause && decodeCause(encoded.cause),
      );
    case "value":
      return encoded.value;
  }
}

/** A cause keeps its own class and name (it is context, not the error callers handle). */
function decodeCause(encoded: EncodedError): unknown {
  if (encoded.kind !== "error") return decodeError(encoded);
  const error = new Error(encoded.message, { cause: encoded.cause && decodeCause(encoded.cause) });
  error.name = encoded.name;
  return error;
}

/** The shape of comlink's transfer handlers (this file does not import comlink). */
export interface ThrowHandler {
  canHandle(value: unknown): boolean;
  serialize(value: never): [unknown, Transferable[]];
  deserialize(value: never): unknown;
}

const MARK = "libsql-web-error";
const wrapped = new WeakSet<object>();

/**
 * Comlink's "throw" handler, replaced so that `LibsqlError`, `RangeError` and
 * `TypeError` keep their class and fields across the boundary. Comlink's
 * registry is global to the page (an application may use comlink too), so
 * other thrown values go through the previous handler unchanged.
 */
export function errorThrowHandler(previous: ThrowHandler): ThrowHandler {
  if (wrapped.has(previous)) return previous;
  const handler: ThrowHandler = {
    canHandle: (value) => previous.canHandle(value),
    serialize: (thrown: { value: unknown }) =>
      thrown.value instanceof LibsqlError || thrown.value instanceof RangeError || thrown.value instanceof TypeError
        ? [{ [MARK]: encodeError(thrown.value) }, []]
        : (previous.serialize as (value: unknown) => [unknown, Transferable[]])(thrown),
    deserialize: (serialized: Record<string, unknown>) => {
      if (typeof serialized === "object" && serialized !== null && MARK in serialized) {
        throw decodeError(serialized[MARK] as EncodedError);
      }
      return (previous.deserialize as (value: unknown) => unknown)(serialized);
    },
  };
  wrapped.add(handler);
  return handler;
}
