/** True for an object that can be iterated (an array, a `Set`, a generator...); strings are not objects. */
export function isIterableObject(value: unknown): value is Iterable<unknown> {
  return (
    typeof value === "object" &&
    value !== null &&
    typeof (value as { [Symbol.iterator]?: unknown })[Symbol.iterator] === "function"
  );
}
