// Bundle js/src/stream.js (+ CSS) and js/src/loader.js into src/llmwidgets/static/ as minified browser ESM.
// KaTeX fonts: only the woff2 files of the faces most formulas use are inlined (Main,
// Math italic, Size1-4, AMS); the other faces fall back to the page's serif font.
import { readFile } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";

const here = dirname(fileURLToPath(import.meta.url));
const outdir = resolve(here, "../src/llmwidgets/static");
const KEEP_FONTS = /KaTeX_(Main-Regular|Math-Italic|Size[1-4]-Regular|AMS-Regular)\./;

/** Trim KaTeX's @font-face rules to the kept faces, woff2 only. */
const katexFonts = {
  name: "katex-fonts",
  setup(build) {
    build.onLoad({ filter: /katex[\\/]dist[\\/]katex\.min\.css$/ }, async (args) => {
      let css = await readFile(args.path, "utf8");
      css = css.replace(/@font-face\{[^}]*\}/g, (rule) => {
        if (!KEEP_FONTS.test(rule)) return "";
        return rule.replace(/src:[^;}]*/, (src) => src.split(/,(?=url\()/)[0]);
      });
      return { contents: css, loader: "css", resolveDir: dirname(args.path) };
    });
  },
};

const result = await esbuild.build({
  entryPoints: [
    { in: resolve(here, "src/stream.js"), out: "stream" },
    { in: resolve(here, "src/stream.css"), out: "stream" },
    { in: resolve(here, "src/loader.js"), out: "loader" },
  ],
  outdir,
  bundle: true,
  format: "esm",
  minify: true,
  target: ["es2020", "chrome100", "firefox100", "safari15"],
  platform: "browser",
  loader: { ".woff2": "dataurl" },
  plugins: [katexFonts],
  legalComments: "none",
  metafile: true,
  logLevel: "warning",
});
for (const [file, info] of Object.entries(result.metafile.outputs)) {
  console.log(`${file}  ${(info.bytes / 1024).toFixed(1)} KiB`);
}
