// Node 20 lacks fs.globSync (Node 22), which @modelcontextprotocol/conformance imports by
// name. `node --import ./shim/register.mjs` hands that package an fs module that adds it,
// built on the glob package; on Node 22 and later the real one is used.
import { register } from "node:module";

register(new URL("./hooks.mjs", import.meta.url));
