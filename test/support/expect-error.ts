import { expect } from "vitest";
import { LibsqlError } from "../../src/errors.js";

/** The fields of an expected `LibsqlError`; `statementIndex` checks a `LibsqlBatchError`. */
export interface ExpectedError {
  code: string;
  extendedCode?: string;
  rawCode?: number;
  statementIndex?: number;
  message?: RegExp;
}

/** Awaits `promise`, requires it to reject with a `LibsqlError` matching `expected`, and returns the error. */
export async function expectLibsqlError(
  promise: Promise<unknown> | (() => Promise<unknown>),
  expected: ExpectedError | string,
): Promise<LibsqlError> {
  const want = typeof expected === "string" ? { code: expected } : expected;
  let error: unknown;
  try {
    await (typeof promise === "function" ? promise() : promise);
  } catch (e) {
    error = e;
  }
  expect(error, `expected a LibsqlError ${want.code}`).toBeInstanceOf(LibsqlError);
  const e = error as LibsqlError & { statementIndex?: number };
  expect(e.code).toBe(want.code);
  expect(e.message.startsWith(`${e.code}: `)).toBe(true);
  if (want.extendedCode !== undefined) expect(e.extendedCode).toBe(want.extendedCode);
  if (want.rawCode !== undefined) expect(e.rawCode).toBe(want.rawCode);
  if (want.statementIndex !== undefined) {
    expect(e.name).toBe("LibsqlBatchError");
    expect(e.statementIndex).toBe(want.statementIndex);
  }
  if (want.message) expect(e.message).toMatch(want.message);
  return e;
}
