/** A `.wasm` import: workerd (and wrangler's bundler) hand it over compiled. */
declare module "*.wasm" {
  const module: WebAssembly.Module;
  export default module;
}
