import type { Row, Value } from "./api.js";
import { setOwn } from "./own-property.js";

/** Builds a row from `values[offset]` onwards (its columns' values, in order). */
export type RowClass = new (values: readonly Value[], offset: number) => Row;

const classes = new Map<string, RowClass>();
const INSPECT = Symbol.for("nodejs.util.inspect.custom");
const OBJECT_METHODS = [
  "hasOwnProperty",
  "isPrototypeOf",
  "propertyIsEnumerable",
  "toString",
  "toLocaleString",
  "valueOf",
] as const;
const CLASS_CACHE_SIZE = 64;

/**
 * Row objects shaped as `@libsql/client` builds them: values by column name as
 * own enumerable properties (the first of duplicate names wins), by index and
 * `length` as read-only, non-enumerable properties, so `Object.keys(row)` and
 * `JSON.stringify(row)` show names only, and rows count as plain objects (for
 * Kysely's `isPlainObject`, lodash's and the like).
 *
 * Why a class per column list: defining index properties on every row with
 * `Object.defineProperty` took 250-420 ms for 100k rows here, against 10-40 ms
 * with the index getters on a shared prototype. That prototype has no
 * prototype of its own (so that plain-object checks accept rows) and carries
 * `constructor: Object` and `Object.prototype`'s methods instead. Visible
 * differences: `Object.getOwnPropertyNames(row)` lists only the names, and
 * `row instanceof Object` is false. A row reads its values by index from
 * the array it was built from, at its offset: one flat array can serve
 * every row of a result (or of a cursor's chunk, which a row kept alive
 * keeps alive too).
 */
export function rowClass(columns: readonly string[]): RowClass {
  const key = columns.join("\u0000") + `\u0001${columns.length}`;
  let cls = classes.get(key);
  if (!cls) {
    cls = makeRowClass(columns);
    if (classes.size >= CLASS_CACHE_SIZE) classes.delete(classes.keys().next().value as string);
    classes.set(key, cls);
  }
  return cls;
}

function makeRowClass(columns: readonly string[]): RowClass {
  const n = columns.length;
  const names: string[] = [];
  const indexes: number[] = [];
  columns.forEach((name, i) => {
    // @libsql/client skips a name already defined on the row: an index or `length`.
    const isIndex = /^(0|[1-9][0-9]*)$/.test(name) && Number(name) < n;
    if (name === "length" || isIndex || names.includes(name)) return;
    names.push(name);
    indexes.push(i);
  });
  const m = names.length;
  class LibsqlRow {
    readonly #values: readonly Value[];
    readonly #offset: number;
    constructor(values: readonly Value[], offset: number) {
      this.#values = values;
      this.#offset = offset;
      const self = this as unknown as Record<string, Value>;
      for (let k = 0; k < m; k++) {
        const name = names[k] as string;
        setOwn(self, name, values[offset + (indexes[k] as number)] as Value);
      }
    }
    static valueAt(row: LibsqlRow, i: number): Value {
      return row.#values[row.#offset + i] as Value;
    }
  }
  const descriptors: Record<string | symbol, PropertyDescriptor> = {
    constructor: { value: Object },
    length: { value: n },
    // Node's console shows the row as the plain object it stands for.
    [INSPECT]: {
      value(this: LibsqlRow) {
        return { ...this };
      },
    },
  };
  // `as string`: a key typed as "hasOwnProperty" would resolve to Object's own member, not the index signature.
  for (const method of OBJECT_METHODS) descriptors[method as string] = { value: Object.prototype[method] };
  for (let i = 0; i < n; i++) {
    descriptors[i] = {
      get(this: LibsqlRow) {
        return LibsqlRow.valueAt(this, i);
      },
    };
  }
  Object.setPrototypeOf(LibsqlRow.prototype, null);
  Object.defineProperties(LibsqlRow.prototype, descriptors);
  return LibsqlRow as unknown as RowClass;
}
