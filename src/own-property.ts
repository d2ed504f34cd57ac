/**
 * Sets `object[key] = value` as an own, enumerable data property, even when
 * `key` is `"__proto__"` (a column or parameter may be named so), which a
 * plain assignment would take as the object's prototype instead.
 */
export function setOwn<T>(object: Record<string, T>, key: string, value: T): void {
  if (key === "__proto__") {
    Object.defineProperty(object, key, { value, enumerable: true, writable: true, configurable: true });
  } else {
    object[key] = value;
  }
}
