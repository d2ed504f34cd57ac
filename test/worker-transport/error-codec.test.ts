import { describe, expect, it } from "vitest";
import { LibsqlBatchError, LibsqlError } from "../../src/errors.js";
import { decodeError, encodeError, errorThrowHandler, type ThrowHandler } from "../../src/worker/error-codec.js";

/** What `postMessage` does to the encoded form. */
const roundTrip = (error: unknown) => decodeError(structuredClone(encodeError(error)));

describe("error codec for the worker boundary", () => {
  it("keeps LibsqlError's class, message and codes", () => {
    const error = roundTrip(
      new LibsqlError("UNIQUE constraint failed: t.x", "SQLITE_CONSTRAINT", "SQLITE_CONSTRAINT_UNIQUE", 2067),
    );
    expect(error).toBeInstanceOf(LibsqlError);
    expect(error).not.toBeInstanceOf(LibsqlBatchError);
    expect(error).toMatchObject({
      name: "LibsqlError",
      message: "SQLITE_CONSTRAINT: UNIQUE constraint failed: t.x",
      code: "SQLITE_CONSTRAINT",
      extendedCode: "SQLITE_CONSTRAINT_UNIQUE",
      rawCode: 2067,
    });
  });

  it("keeps LibsqlBatchError's statementIndex and the cause chain", () => {
    const cause = new LibsqlError("inner", "SQLITE_ERROR", "SQLITE_ERROR", 1);
    const error = roundTrip(new LibsqlBatchError("no such table: nope", 2, "SQLITE_ERROR", "SQLITE_ERROR", 1, cause));
    expect(error).toBeInstanceOf(LibsqlBatchError);
    expect(error).toMatchObject({ name: "LibsqlBatchError", statementIndex: 2, code: "SQLITE_ERROR", rawCode: 1 });
    expect((error as Error).cause).toBeInstanceOf(LibsqlError);
    expect((error as Error).cause).toMatchObject({ code: "SQLITE_ERROR", message: "SQLITE_ERROR: inner" });
  });

  it("keeps RangeError and TypeError, and turns other errors into INTERNAL_ERROR", () => {
    expect(roundTrip(new RangeError("too big"))).toBeInstanceOf(RangeError);
    expect(roundTrip(new TypeError("bad"))).toBeInstanceOf(TypeError);
    const other = roundTrip(new SyntaxError("odd"));
    expect(other).toBeInstanceOf(LibsqlError);
    expect(other).toMatchObject({ code: "INTERNAL_ERROR", message: "INTERNAL_ERROR: SyntaxError in the worker: odd" });
    expect(roundTrip("a string")).toBe("a string");
  });

  it("leaves values it does not own to comlink's previous handler", () => {
    const previous: ThrowHandler = {
      canHandle: (value) => typeof value === "object" && value !== null && "value" in value,
      serialize: (thrown: { value: unknown }) => [{ plain: String(thrown.value) }, []],
      deserialize: (value: { plain: string }) => {
        throw new Error(value.plain);
      },
    };
    // Comlink hands the handler `{ value: thrown, [marker]: 0 }`.
    const handler = errorThrowHandler(previous);
    expect(errorThrowHandler(handler)).toBe(handler);
    const [foreign] = (handler.serialize as (v: unknown) => [unknown, Transferable[]])({ value: new Error("app") });
    expect(foreign).toEqual({ plain: "Error: app" });
    expect(() => (handler.deserialize as (v: unknown) => unknown)(foreign)).toThrow("Error: app");
    const [ours] = (handler.serialize as (v: unknown) => [unknown, Transferable[]])({
      value: new LibsqlError("x", "SQLITE_BUSY"),
    });
    let thrown: unknown;
    try {
      (handler.deserialize as (v: unknown) => unknown)(structuredClone(ours));
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(LibsqlError);
    expect(thrown).toMatchObject({ code: "SQLITE_BUSY" });
  });
});
