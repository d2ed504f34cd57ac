import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { LibsqlError } from "../../src/errors.js";
import { createClient } from "../../src/node.js";
import type { EncryptionFormat } from "../../src/proto.js";

const SECRET = "Qv4-secret-marker-Lm7";

/** Every form of the key an error could carry. */
function forms(key: string): string[] {
  const bytes = Buffer.from(key, "utf8");
  return [key, key.slice(0, 10), bytes.toString("hex"), bytes.toString("base64"), bytes.toString("base64url")];
}

/** Message, stack, JSON and cause chain of a thrown value. */
function texts(error: unknown): string {
  const parts: string[] = [];
  for (let current = error; current !== undefined && current !== null; ) {
    parts.push(String(current), JSON.stringify(current) ?? "");
    if (!(current instanceof Error)) break;
    parts.push(current.message, current.stack ?? "");
    current = current.cause;
  }
  return parts.join("\n");
}

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "libsql-web-enc-errors-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** Makes a database at `name` (encrypted when `key` is given) holding one row. */
async function make(name: string, key?: string, format?: EncryptionFormat): Promise<string> {
  const url = `file:${join(dir, name)}`;
  const client = createClient({ url, encryptionKey: key, encryptionFormat: format });
  await client.execute("CREATE TABLE t(v)");
  await client.execute("INSERT INTO t VALUES ('hello')");
  client.close();
  return url;
}

/** What the first query of a client with `config` throws. */
async function failure(config: Parameters<typeof createClient>[0]): Promise<LibsqlError> {
  const client = createClient(config);
  try {
    await client.execute("SELECT v FROM t");
  } catch (error) {
    expect(error).toBeInstanceOf(LibsqlError);
    for (const form of forms(SECRET)) expect(texts(error)).not.toContain(form);
    return error as LibsqlError;
  } finally {
    client.close();
  }
  throw new Error("the query did not fail");
}

describe("encryption errors have stable codes and never show the key", () => {
  it("wrong key, missing key, key on a plain database, other format", async () => {
    const encrypted = await make("enc.db", SECRET);
    const plain = await make("plain.db");
    const authenticated = await make("auth.db", SECRET, "authenticated");
    const wrong = `${SECRET}-but-wrong`;

    expect(await failure({ url: encrypted, encryptionKey: wrong })).toMatchObject({
      code: "SQLITE_NOTADB",
      extendedCode: "ENCRYPTION_KEY_WRONG",
      rawCode: 26,
    });
    expect(
      await failure({ url: authenticated, encryptionKey: wrong, encryptionFormat: "authenticated" }),
    ).toMatchObject({ code: "SQLITE_NOTADB", extendedCode: "ENCRYPTION_KEY_WRONG" });
    for (const url of [encrypted, authenticated]) {
      expect(await failure({ url })).toMatchObject({ code: "SQLITE_NOTADB", extendedCode: "ENCRYPTION_KEY_MISSING" });
    }
    for (const format of ["libsql", "authenticated"] as const) {
      expect(await failure({ url: plain, encryptionKey: SECRET, encryptionFormat: format })).toMatchObject({
        code: "SQLITE_NOTADB",
        extendedCode: "ENCRYPTION_NOT_ENCRYPTED",
      });
    }
    expect(await failure({ url: encrypted, encryptionKey: SECRET, encryptionFormat: "authenticated" })).toMatchObject({
      code: "SQLITE_NOTADB",
      extendedCode: "ENCRYPTION_FORMAT_MISMATCH",
    });
    expect(await failure({ url: authenticated, encryptionKey: SECRET })).toMatchObject({
      code: "SQLITE_NOTADB",
      extendedCode: "ENCRYPTION_FORMAT_MISMATCH",
    });

    // The right key still works after all that.
    const client = createClient({ url: encrypted, encryptionKey: SECRET });
    expect((await client.execute("SELECT v FROM t")).rows[0]?.v).toBe("hello");
    client.close();
  });

  it("a second client of an open database must bring the same key", async () => {
    const url = await make("shared.db", SECRET);
    const first = createClient({ url, encryptionKey: SECRET });
    try {
      expect((await first.execute("SELECT count(*) AS n FROM t")).rows[0]?.n).toBe(1);
      expect(await failure({ url, encryptionKey: `${SECRET}x` })).toMatchObject({
        code: "SQLITE_NOTADB",
        extendedCode: "ENCRYPTION_KEY_WRONG",
      });
      expect(await failure({ url })).toMatchObject({ code: "SQLITE_NOTADB", extendedCode: "ENCRYPTION_KEY_MISSING" });
      expect(await failure({ url, encryptionKey: SECRET, encryptionFormat: "authenticated" })).toMatchObject({
        code: "SQLITE_NOTADB",
        extendedCode: "ENCRYPTION_FORMAT_MISMATCH",
      });
      const second = createClient({ url, encryptionKey: SECRET });
      expect((await second.execute("SELECT v FROM t")).rows[0]?.v).toBe("hello");
      second.close();
    } finally {
      first.close();
    }
  });

  it("an unusable key or format, and a key for a remote database", async () => {
    const url = `file:${join(dir, "bad.db")}`;
    expect(await failure({ url, encryptionKey: "" })).toMatchObject({ code: "ENCRYPTION_KEY_INVALID" });
    expect(() => createClient({ url, encryptionKey: SECRET, encryptionFormat: "rot13" as EncryptionFormat })).toThrow(
      TypeError,
    );
    expect(() => createClient({ url, encryptionFormat: "authenticated" })).toThrow(TypeError);
    let remote: unknown;
    try {
      createClient({ url: "https://example.invalid", encryptionKey: SECRET });
    } catch (error) {
      remote = error;
    }
    expect(remote).toMatchObject({ code: "ENCRYPTION_KEY_NOT_SUPPORTED" });
    for (const form of forms(SECRET)) expect(texts(remote)).not.toContain(form);
  });

  it("refuses WAL and temporary files on disk with a clear message", async () => {
    const url = await make("refusals.db", SECRET);
    const client = createClient({ url, encryptionKey: SECRET });
    try {
      await expect(client.execute("PRAGMA journal_mode=WAL")).rejects.toMatchObject({
        code: "SQLITE_ERROR",
        message: expect.stringContaining("cannot use journal_mode=WAL"),
      });
      await expect(client.execute("PRAGMA temp_store=FILE")).rejects.toMatchObject({
        code: "SQLITE_ERROR",
        message: expect.stringContaining("temp_store must stay MEMORY"),
      });
      expect((await client.execute("PRAGMA journal_mode")).rows[0]?.[0]).toBe("delete");
      expect((await client.execute("PRAGMA temp_store")).rows[0]?.[0]).toBe(2);
      await client.execute("PRAGMA journal_mode=TRUNCATE");
      await client.execute("INSERT INTO t VALUES ('truncate mode')");
      expect((await client.execute("SELECT count(*) AS n FROM t")).rows[0]?.n).toBe(2);
    } finally {
      client.close();
    }
  });
});
