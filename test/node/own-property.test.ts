import { describe, expect, it } from "vitest";
import { createClient } from "../../src/node.js";
import { setOwn } from "../../src/own-property.js";
import { toArgs } from "../../src/statements.js";

/** An object with an own property named `__proto__`, as `JSON.parse` makes it. */
const withProto = () => JSON.parse('{"__proto__": 7, "a": 1}') as Record<string, number>;

describe("a key named __proto__", () => {
  it("is set as an own property, leaving the prototype alone", () => {
    const object: Record<string, unknown> = {};
    setOwn(object, "__proto__", { x: 1 });
    setOwn(object, "b", 2);
    expect(Object.getPrototypeOf(object)).toBe(Object.prototype);
    expect(Object.keys(object)).toEqual(["__proto__", "b"]);
    expect(Object.getOwnPropertyDescriptor(object, "__proto__")?.value).toEqual({ x: 1 });
  });

  it("survives as a named argument, up to the engine", async () => {
    expect(Object.keys(toArgs(withProto()).namedArgs ?? {})).toEqual(["__proto__", "a"]);
    const client = createClient({ url: ":memory:" });
    try {
      const rs = await client.execute({ sql: "SELECT :__proto__ AS v, :a AS a", args: withProto() });
      expect(rs.rows[0]?.v).toBe(7);
      expect(rs.rows[0]?.a).toBe(1);
    } finally {
      client.close();
    }
  });
});
