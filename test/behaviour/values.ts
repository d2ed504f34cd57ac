import { describe, expect, it } from "vitest";
import { type ClientFactory, withClient } from "../support/client-factory.js";

/** Every value type in and out, in each `intMode`. */
export function valuesSuite(factory: ClientFactory): void {
  describe("values", () => {
    it("round-trips null, integers, floats, text and blobs", () =>
      withClient(factory, async (c) => {
        await c.execute("CREATE TABLE v(i INTEGER, f REAL, t TEXT, b BLOB, n)");
        await c.execute({
          sql: "INSERT INTO v VALUES (?, ?, ?, ?, ?)",
          args: [42n, 3.25, "héllo wörld ✓ 𝄞", new Uint8Array([0, 1, 254, 255]), null],
        });
        const row = (await c.execute("SELECT * FROM v")).rows[0]!;
        expect(row.i).toBe(42);
        expect(row.f).toBe(3.25);
        expect(row.t).toBe("héllo wörld ✓ 𝄞");
        expect(row.b).toBeInstanceOf(ArrayBuffer);
        expect([...new Uint8Array(row.b as ArrayBuffer)]).toEqual([0, 1, 254, 255]);
        expect(row.n).toBeNull();
      }));

    it("binds numbers as REAL, booleans as 1/0, dates as epoch milliseconds, ArrayBuffers as blobs", () =>
      withClient(factory, async (c) => {
        const date = new Date("2024-05-06T07:08:09.010Z");
        const rs = await c.execute({
          sql: "SELECT typeof(?) AS tn, ? AS t, ? AS f, ? AS d, hex(?) AS ab, typeof(?) AS tb",
          args: [1, true, false, date, new Uint8Array([1, 2]).buffer, 5n],
        });
        expect(rs.rows[0]).toMatchObject({ tn: "real", t: 1, f: 0, d: date.valueOf(), ab: "0102", tb: "integer" });
      }));

    it("keeps empty strings, empty blobs and NUL characters", () =>
      withClient(factory, async (c) => {
        const rs = await c.execute({
          sql: "SELECT ? AS e, ? AS nul, length(?) AS len, ? AS eb, typeof(?) AS teb",
          args: ["", "a\u0000b", "a\u0000b", new Uint8Array(0), new Uint8Array(0)],
        });
        const row = rs.rows[0]!;
        expect(row.e).toBe("");
        // sqld keeps the NUL; the loopback test server's engine (the native libsql package) cuts text there.
        if (factory.caps.localEngine) expect(row.nul).toBe("a\u0000b");
        expect((row.eb as ArrayBuffer).byteLength).toBe(0);
        expect(row.teb).toBe("blob");
      }));

    it("returns integers as numbers, and RangeError beyond 2^53 in number mode", () =>
      withClient(factory, async (c) => {
        const rs = await c.execute("SELECT 9007199254740991 AS max, -9007199254740991 AS min");
        expect(rs.rows[0]).toMatchObject({ max: Number.MAX_SAFE_INTEGER, min: Number.MIN_SAFE_INTEGER });
        await expect(c.execute("SELECT 9007199254740992")).rejects.toThrow(RangeError);
        await expect(c.execute("SELECT 9007199254740992")).rejects.toThrow(/safely represented/);
      }));

    it("returns integers as bigints in bigint mode", () =>
      withClient(
        factory,
        async (c) => {
          const rs = await c.execute({
            sql: "SELECT 1 AS one, 9223372036854775807 AS max, -9223372036854775808 AS min, 1.0 AS f, ? AS echoed",
            args: [-(2n ** 63n)],
          });
          expect(rs.rows[0]).toMatchObject({
            one: 1n,
            max: 9223372036854775807n,
            min: -9223372036854775808n,
            f: 1,
            echoed: -(2n ** 63n),
          });
          expect(rs.toJSON().rows[0]).toEqual([
            "1",
            "9223372036854775807",
            "-9223372036854775808",
            1,
            "-9223372036854775808",
          ]);
        },
        { intMode: "bigint" },
      ));

    it("returns integers as strings in string mode", () =>
      withClient(
        factory,
        async (c) => {
          const rs = await c.execute("SELECT 7 AS a, 9223372036854775807 AS b, 2.5 AS c");
          expect(rs.rows[0]).toMatchObject({ a: "7", b: "9223372036854775807", c: 2.5 });
        },
        { intMode: "string" },
      ));

    it("gives a RangeError for bigints outside 64 bits", () =>
      withClient(factory, async (c) => {
        await expect(c.execute({ sql: "SELECT ?", args: [2n ** 64n] })).rejects.toThrow(RangeError);
        expect((await c.execute("SELECT 1 AS ok")).rows[0]!.ok).toBe(1);
      }));

    // A server has its own rules for invalid UTF-8 (native libSQL panics on it); this is our engine's.
    it.runIf(factory.caps.localEngine)("reads invalid UTF-8 stored in a text column as replacement characters", () =>
      withClient(factory, async (c) => {
        const rs = await c.execute("SELECT CAST(x'61ff62' AS TEXT) AS t");
        expect(rs.rows[0]!.t).toBe("a\ufffdb");
      }),
    );
  });
}
