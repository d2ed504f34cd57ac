/** What every entry point exports besides its own `createClient`. */
export type {
  Client,
  Config,
  Cursor,
  CursorOptions,
  EncryptionFormat,
  EncryptionTarget,
  InArgs,
  InStatement,
  IntMode,
  InValue,
  Metadata,
  Replicated,
  ResultSet,
  Row,
  Statement,
  Transaction,
  TransactionMode,
  Value,
} from "./api.js";
export { ErrorCode, LibsqlBatchError, LibsqlError } from "./errors.js";
