/** Standard base64 of `bytes`, padded. Works wherever `btoa` exists (browsers, Node ≥ 16, workerd). */
export function toBase64(bytes: Uint8Array): string {
  let binary = "";
  const chunk = 0x8000;
  for (let i = 0; i < bytes.length; i += chunk) {
    binary += String.fromCharCode.apply(null, bytes.subarray(i, i + chunk) as unknown as number[]);
  }
  return btoa(binary);
}

/** Decodes standard base64, with or without padding. */
export function fromBase64(text: string): Uint8Array {
  const padded = text.length % 4 === 0 ? text : text + "=".repeat(4 - (text.length % 4));
  const binary = atob(padded);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}
