// Module resolution hook: the conformance package's `fs` becomes ./fs.mjs.
const SHIM = new URL("./fs.mjs", import.meta.url).href;

export async function resolve(specifier, context, nextResolve) {
  const fromSuite = context.parentURL?.includes("/node_modules/@modelcontextprotocol/conformance/");
  if (fromSuite && (specifier === "fs" || specifier === "node:fs")) {
    return { url: SHIM, shortCircuit: true };
  }
  return nextResolve(specifier, context);
}
