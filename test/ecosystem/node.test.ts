import { afterAll, describe } from "vitest";
import { drizzleSuite } from "./drizzle-suite.js";
import { inProcessMemory, reference } from "./factories.js";
import { kyselySuite } from "./kysely-suite.js";
import { migrationsSuite } from "./migrations-suite.js";
import { typesSuite } from "./types-suite.js";
import { vectorSuite } from "./vector-suite.js";

const referenceClient = reference();
afterAll(() => referenceClient.cleanup());

// The same suites on libsql-web and on @libsql/client (the reference): both must pass them.
describe.each([
  { factory: inProcessMemory, concurrentTransactions: true },
  { factory: referenceClient, concurrentTransactions: false },
])("$factory.name", ({ factory, concurrentTransactions }) => {
  drizzleSuite(factory);
  kyselySuite(factory);
  migrationsSuite(factory, { concurrentTransactions });
  typesSuite(factory);
  vectorSuite(factory);
});
