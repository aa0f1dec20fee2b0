// node:fs, plus globSync where Node does not have it.
import fs from "node:fs";
import { createRequire } from "node:module";

export * from "node:fs";
export default fs;

const { globSync: glob } = createRequire(import.meta.url)("glob");

export const globSync =
  fs.globSync ?? ((pattern, options = {}) => glob(pattern, { cwd: options.cwd ?? process.cwd() }));
