import type { Client, InArgs, InStatement, ResultSet, Transaction, Value } from "../../src/api.js";

/** One call an ORM made on a client or transaction, and what came back. */
export interface Call {
  on: "client" | "tx";
  method: string;
  input: unknown;
  output: unknown;
}

function value(v: Value): unknown {
  if (v instanceof ArrayBuffer) return `blob:${Buffer.from(v).toString("hex")}`;
  if (typeof v === "bigint") return `${v}n`;
  return v;
}

/** Everything observable of a result set that ORMs read. */
function resultShape(rs: ResultSet): unknown {
  return {
    columns: rs.columns,
    columnTypes: rs.columnTypes,
    rowsAffected: rs.rowsAffected,
    lastInsertRowid: rs.lastInsertRowid,
    rows: rs.rows.map((row) => ({
      keys: Object.keys(row),
      byIndex: Array.from({ length: row.length }, (_, i) => value(row[i] as Value)),
      byName: Object.fromEntries(Object.keys(row).map((k) => [k, value(row[k] as Value)])),
    })),
  };
}

function errorShape(error: unknown): unknown {
  const e = error as Error & { code?: string; extendedCode?: string; statementIndex?: number };
  return {
    error: e.name,
    code: e.code,
    extendedCode: e.extendedCode,
    statementIndex: e.statementIndex,
    message: e.message,
  };
}

async function record<T>(calls: Call[], on: Call["on"], method: string, input: unknown, run: () => Promise<T>) {
  const call: Call = { on, method, input, output: undefined };
  calls.push(call);
  try {
    const out = await run();
    call.output = Array.isArray(out)
      ? out.map(resultShape)
      : out && typeof out === "object" && "rows" in out
        ? resultShape(out as unknown as ResultSet)
        : out;
    return out;
  } catch (error) {
    call.output = errorShape(error);
    throw error;
  }
}

function statementInput(stmt: InStatement | [string, InArgs?], args?: InArgs): unknown {
  if (typeof stmt === "string") return args === undefined ? stmt : { sql: stmt, args };
  return stmt;
}

function wrapTransaction(tx: Transaction, calls: Call[]): Transaction {
  return new Proxy(tx, {
    get(target, prop) {
      const method = String(prop);
      if (prop === "execute") {
        return (stmt: InStatement, args?: InArgs) =>
          record(calls, "tx", method, statementInput(stmt, args), () => target.execute(stmt as never, args));
      }
      if (prop === "batch" || prop === "commit" || prop === "rollback") {
        return (...a: unknown[]) =>
          record(calls, "tx", method, a[0] ?? null, () =>
            (target[prop] as (...x: unknown[]) => Promise<unknown>)(...a),
          );
      }
      const v = Reflect.get(target, prop, target);
      return typeof v === "function" ? v.bind(target) : v;
    },
  });
}

/** A client that records every execute, batch, migrate and transaction call made through it. */
export function recordingClient(client: Client): { client: Client; calls: Call[] } {
  const calls: Call[] = [];
  const proxy = new Proxy(client, {
    get(target, prop) {
      const method = String(prop);
      if (prop === "execute") {
        return (stmt: InStatement, args?: InArgs) =>
          record(calls, "client", method, statementInput(stmt, args), () => target.execute(stmt as never, args));
      }
      if (prop === "batch" || prop === "migrate" || prop === "executeMultiple") {
        return (...a: unknown[]) =>
          record(calls, "client", method, a, () => (target[prop] as (...x: unknown[]) => Promise<unknown>)(...a));
      }
      if (prop === "transaction") {
        return async (mode?: Parameters<Client["transaction"]>[0]) => {
          calls.push({ on: "client", method, input: mode ?? null, output: "transaction" });
          return wrapTransaction(await target.transaction(mode), calls);
        };
      }
      const v = Reflect.get(target, prop, target);
      return typeof v === "function" ? v.bind(target) : v;
    },
  });
  return { client: proxy, calls };
}
