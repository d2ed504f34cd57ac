import type { ClientFactory } from "../support/client-factory.js";
import { batchSuite } from "./batch.js";
import { errorSuite } from "./errors.js";
import { executeSuite } from "./execute.js";
import { statementSuite } from "./statements.js";
import { transactionSuite } from "./transactions.js";
import { valuesSuite } from "./values.js";

/**
 * The behavioural suite every transport runs: the in-process engine in Node,
 * the worker in Chromium, Hrana over HTTP against the loopback server.
 */
export function behaviourSuite(factory: ClientFactory): void {
  executeSuite(factory);
  valuesSuite(factory);
  batchSuite(factory);
  transactionSuite(factory);
  statementSuite(factory);
  errorSuite(factory);
}
