import type {
  ArgValue,
  BatchResult,
  BatchStep,
  ConnectionMetadata,
  DescribeResult,
  IntMode,
  PreparedInfo,
  ReceivedRows,
  Stmt,
  StmtResult,
} from "../proto.js";
import { firstRows } from "../received-rows.js";
import type { TransportCursor, TransportStatement, TransportStream } from "../transport.js";
import type { ReplicaRouter } from "./replica-router.js";

type Args = readonly ArgValue[] | Readonly<Record<string, ArgValue>>;

/**
 * A replica client's stream outside transactions. Reads run locally; the
 * engine decides (in the same call, so reads cost no extra round trip) and
 * hands back anything that writes, which the router sends to the primary or,
 * offline, into the working copy.
 */
export class ReplicaMainStream implements TransportStream {
  readonly #router: ReplicaRouter;

  constructor(router: ReplicaRouter) {
    this.#router = router;
  }

  async execute(stmt: Stmt, intMode: IntMode): Promise<StmtResult<ReceivedRows>> {
    const r = this.#router;
    const local = await r.engine.executeIfReadOnly(r.readConn(), stmt, intMode);
    if (local) return local;
    return r.write(
      () => r.remote.main.execute(stmt, intMode),
      (work) => r.engine.execute(work, stmt, intMode),
    );
  }

  async batch(steps: BatchStep[], intMode: IntMode): Promise<BatchResult<ReceivedRows>> {
    const r = this.#router;
    const local = await r.engine.batchIfReadOnly(r.readConn(), steps, intMode);
    if (local) return local;
    return r.write(
      () => r.remote.main.batch(steps, intMode),
      (work) => r.engine.batch(work, steps, intMode),
    );
  }

  async sequence(sql: string): Promise<void> {
    const r = this.#router;
    const conn = r.readConn();
    if (await r.engine.isReadOnly(conn, [sql])) return r.engine.sequence(conn, sql);
    return r.write(
      () => r.remote.main.sequence(sql),
      (work) => r.engine.sequence(work, sql),
    );
  }

  async describe(sql: string): Promise<DescribeResult> {
    const r = this.#router;
    try {
      return await r.engine.describe(r.readConn(), sql);
    } catch (error) {
      // The local schema may lack what the primary has (not pulled yet).
      if (r.writesLocally()) throw error;
      return r.remote.main.describe(sql);
    }
  }

  async getAutocommit(): Promise<boolean> {
    return true;
  }

  metadata(): Promise<ConnectionMetadata> {
    return this.#router.engine.metadata(this.#router.readConn());
  }

  async prepare(sql: string): Promise<TransportStatement> {
    const r = this.#router;
    const conn = r.readConn();
    let prepared: PreparedInfo | undefined;
    try {
      prepared = await r.engine.prepare(conn, sql);
    } catch (error) {
      // Offline, the local schema is all there is; online, the primary may know more.
      if (r.writesLocally()) throw error;
    }
    if (!prepared) return this.#writingStatement(sql, undefined);
    const { stmtId, ...info } = prepared;
    if (await r.engine.isReadOnly(conn, [sql])) return this.#localStatement(conn, sql, stmtId, info);
    await r.engine.finalize(conn, stmtId);
    return this.#writingStatement(sql, info);
  }

  /** A statement that only reads: the local prepared statement, while reads still go to its database. */
  #localStatement(conn: number, sql: string, stmtId: number, info: DescribeResult): TransportStatement {
    const r = this.#router;
    return {
      info,
      query: async (args: Args, intMode: IntMode, maxRows?: number) => {
        const now = r.readConn();
        if (now === conn) return r.engine.query(conn, stmtId, args as ArgValue[], intMode, maxRows);
        // Offline writes started since: they are in the working copy.
        return limit(await r.engine.execute(now, stmtOf(sql, args), intMode), maxRows);
      },
      close: () => r.engine.finalize(conn, stmtId),
    };
  }

  /** A statement that writes: prepared on the primary on first use, or run in the working copy. */
  async #writingStatement(sql: string, local: DescribeResult | undefined): Promise<TransportStatement> {
    const r = this.#router;
    let remote: Promise<TransportStatement> | undefined;
    const remoteOf = (): Promise<TransportStatement> => {
      remote ??= r.remote.main.prepare(sql);
      return remote;
    };
    const info = local ?? (await remoteOf()).info;
    return {
      info,
      query: (args: Args, intMode: IntMode, maxRows?: number) =>
        r.write(
          async () => (await remoteOf()).query(args, intMode, maxRows),
          async (work) => limit(await r.engine.execute(work, stmtOf(sql, args), intMode), maxRows),
        ),
      close: async () => {
        if (remote) await (await remote).close();
      },
    };
  }

  async openCursor(steps: BatchStep[], intMode: IntMode): Promise<TransportCursor> {
    const r = this.#router;
    const conn = r.readConn();
    if (
      await r.engine.isReadOnly(
        conn,
        steps.map((s) => s.stmt.sql),
      )
    )
      return localCursor(r, conn, steps, intMode);
    return r.write(
      async () => pullingCursor(r, await r.remote.main.openCursor(steps, intMode)),
      (work) => localCursor(r, work, steps, intMode),
      false,
    );
  }

  async close(): Promise<void> {}
}

async function localCursor(
  r: ReplicaRouter,
  conn: number,
  steps: BatchStep[],
  intMode: IntMode,
): Promise<TransportCursor> {
  const id = await r.engine.openCursor(conn, steps, intMode);
  return {
    fetch: (maxRows) => r.engine.fetchCursor(conn, id, maxRows),
    close: () => r.engine.closeCursor(conn, id),
  };
}

/** A remote cursor that writes: once it is done or closed, the replica pulls (read your writes). */
function pullingCursor(r: ReplicaRouter, cursor: TransportCursor): TransportCursor {
  let pulled = false;
  const pull = async () => {
    if (pulled) return;
    pulled = true;
    await r.afterRemoteWrite();
  };
  return {
    fetch: async (maxRows) => {
      const chunk = await cursor.fetch(maxRows);
      if (chunk.done) await pull();
      return chunk;
    },
    close: async () => {
      await cursor.close();
      await pull();
    },
  };
}

function stmtOf(sql: string, args: Args): Stmt {
  return Array.isArray(args)
    ? { sql, args: [...(args as ArgValue[])] }
    : { sql, namedArgs: { ...(args as Record<string, ArgValue>) } };
}

function limit(result: StmtResult<ReceivedRows>, maxRows: number | undefined): StmtResult<ReceivedRows> {
  return maxRows === undefined ? result : { ...result, rows: firstRows(result.rows, maxRows) };
}
