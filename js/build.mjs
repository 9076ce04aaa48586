// Bundle the canvas's sources (src/index.js and what it imports) into the one ES module the
// widget loads: js/canvas.js, or the path given as the first argument (to compare with it).
// Run through scripts/build_js.sh, which installs the pinned esbuild first (npm ci).
import { build } from "esbuild";
import { fileURLToPath } from "node:url";

const here = fileURLToPath(new URL(".", import.meta.url));
await build({
  absWorkingDir: here,
  entryPoints: ["src/index.js"],
  outfile: process.argv[2] ?? "canvas.js",
  bundle: true,
  format: "esm",
  target: "es2022",
  charset: "utf8",
  legalComments: "none",
  banner: { js: "// Built from js/src/ by scripts/build_js.sh (esbuild): edit those files, not this one." },
  logLevel: "warning",
});
