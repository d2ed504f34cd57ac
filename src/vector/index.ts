/**
 * `libsql-web/vector`: nearest-neighbour search over libSQL vector columns,
 * and the codecs for their blobs.
 *
 * @example
 * import { nearest, vector32 } from "libsql-web/vector";
 */

export { type VectorInput, vector32 } from "../types/vector32.js";
export { vector64 } from "../types/vector64.js";
export { type NearestQuery, type Neighbour, nearest, type VectorMetric } from "./nearest.js";
