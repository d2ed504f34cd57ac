import type { Replicated } from "./api.js";
import type {
  ArgValue,
  BatchResult,
  BatchStep,
  ConnectionMetadata,
  CursorChunk,
  DescribeResult,
  IntMode,
  ReceivedRows,
  RowsAhead,
  RunManyResult,
  Stmt,
  StmtResult,
} from "./proto.js";

/**
 * What the client needs from a transport. The client's logic (statement
 * normalisation, batches, transactions, cursors, results, errors) is written
 * once over this; the engine transport (in-process or a worker), the Hrana
 * HTTP transport and the replica implement it.
 */
export interface Transport {
  /** Reported as `client.protocol`. */
  readonly protocol: "file" | "http" | "ws";
  /**
   * The stream for calls made outside interactive transactions: the client's
   * own engine connection, or over HTTP a fresh server stream per call.
   */
  readonly main: TransportStream;
  /** Opens a stream of its own, for an interactive transaction. */
  openStream(): Promise<TransportStream>;
  /** Releases everything the transport holds. */
  close(): Promise<void>;
  /** Syncs an embedded replica; absent on transports without one. */
  sync?(): Promise<Replicated>;
}

/**
 * A connection-like sequence of requests (a Hrana stream). A transaction is a
 * stream on which the client ran BEGIN.
 */
export interface TransportStream {
  /**
   * Runs one statement. A transport may hand rows to `onRows` in batches
   * before the result (which then holds only the rest); others ignore it.
   */
  execute(stmt: Stmt, intMode: IntMode, onRows?: RowsAhead<ReceivedRows>): Promise<StmtResult<ReceivedRows>>;
  batch(steps: BatchStep[], intMode: IntMode): Promise<BatchResult<ReceivedRows>>;
  sequence(sql: string): Promise<void>;
  describe(sql: string): Promise<DescribeResult>;
  getAutocommit(): Promise<boolean>;
  metadata(): Promise<ConnectionMetadata>;
  prepare(sql: string): Promise<TransportStatement>;
  openCursor(steps: BatchStep[], intMode: IntMode): Promise<TransportCursor>;
  /** Closes the stream; an open transaction on it rolls back. */
  close(): Promise<void>;
}

/** A prepared statement held by a stream. */
export interface TransportStatement {
  readonly info: DescribeResult;
  query(
    args: readonly ArgValue[] | Readonly<Record<string, ArgValue>>,
    intMode: IntMode,
    maxRows?: number,
    onRows?: RowsAhead<ReceivedRows>,
  ): Promise<StmtResult<ReceivedRows>>;
  /**
   * Runs the statement once per argument list, atomically (see
   * `EngineApi.runMany`); lists that are not an array are taken as they are
   * sent. Transports without a bulk path leave it out and the client sends a
   * batch instead.
   */
  runMany?(argsList: Iterable<ArgValue[] | Record<string, ArgValue>>): Promise<RunManyResult>;
  close(): Promise<void>;
}

/** A cursor held by a stream, read in chunks. */
export interface TransportCursor {
  fetch(maxRows: number): Promise<CursorChunk<ReceivedRows>>;
  close(): Promise<void>;
}
