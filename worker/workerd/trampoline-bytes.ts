/**
 * The tiny wasm modules ("trampolines") that sqlite3's JS glue compiles at run
 * time to put a JS function into the wasm function table (`jsFuncToWasm` in
 * the glue). Each one imports `e.f` with one signature and exports it as `f`;
 * its bytes depend on the signature alone. workerd forbids compiling wasm at
 * run time, so the workerd engine ships these precompiled (`trampolines/`) and
 * hands them to the glue instead.
 */

/** The wasm value type of each signature letter the glue knows (`p`, `P`, `s` are pointers: i32). */
const TYPES: Record<string, number> = { i: 0x7f, p: 0x7f, P: 0x7f, s: 0x7f, j: 0x7e, f: 0x7d, d: 0x7c };
const LETTERS: Record<number, string> = { 127: "i", 126: "j", 125: "f", 124: "d" };

function typeOf(letter: string): number {
  const type = TYPES[letter];
  if (type === undefined) throw new Error(`invalid signature letter ${JSON.stringify(letter)}`);
  return type;
}

/** Result letter and parameter letters of a glue signature (`"i(pp)"` or `"ipp"`). */
function parse(signature: string): { result: string; params: string } {
  const match = /^(\w)\((\w*)\)$/.exec(signature);
  return { result: signature[0] as string, params: match ? (match[2] as string) : signature.slice(1) };
}

/**
 * The canonical name of a signature, by wasm types: `i_ij` for `"i(pj)"`,
 * `v_i` for `"v(p)"`. Signatures with the same name share a trampoline.
 */
export function trampolineName(signature: string): string {
  const { result, params } = parse(signature);
  const r = result === "v" ? "v" : (LETTERS[typeOf(result)] as string);
  return `${r}_${[...params].map((p) => LETTERS[typeOf(p)]).join("")}`;
}

/** The module bytes the glue builds for a signature (or a canonical name), byte for byte. */
export function trampolineBytes(signature: string): Uint8Array {
  const { result, params } = signature.includes("_")
    ? { result: signature[0] as string, params: signature.slice(2) }
    : parse(signature);
  const type: number[] = [0x60, ...uleb128(params.length), ...[...params].map(typeOf)];
  if (result === "v") type.push(0);
  else type.push(1, typeOf(result));
  const typeSection = [0x01, ...uleb128(type.length + 1), 0x01, ...type];
  return new Uint8Array([
    ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00],
    ...typeSection,
    // import section: one function "e"."f" of type 0
    ...[0x02, 0x07, 0x01, 0x01, 0x65, 0x01, 0x66, 0x00, 0x00],
    // export section: function 0 as "f"
    ...[0x07, 0x05, 0x01, 0x01, 0x66, 0x00, 0x00],
  ]);
}

function uleb128(n: number): number[] {
  return n < 128 ? [n] : [(n % 128) | 128, n >> 7];
}
