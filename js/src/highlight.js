// Syntax highlighting with highlight.js core and a fixed set of common languages
// (registered on first use, so startup pays nothing; with the languages each one embeds, as
// TSX embeds XML, so a block highlights the same whichever block came before it).
// No auto-detection: it is slow and its guess changes while a code block streams in.

import hljs from "highlight.js/lib/core";
import bash from "highlight.js/lib/languages/bash";
import c from "highlight.js/lib/languages/c";
import cpp from "highlight.js/lib/languages/cpp";
import csharp from "highlight.js/lib/languages/csharp";
import css from "highlight.js/lib/languages/css";
import diff from "highlight.js/lib/languages/diff";
import dockerfile from "highlight.js/lib/languages/dockerfile";
import go from "highlight.js/lib/languages/go";
import ini from "highlight.js/lib/languages/ini";
import java from "highlight.js/lib/languages/java";
import javascript from "highlight.js/lib/languages/javascript";
import json from "highlight.js/lib/languages/json";
import kotlin from "highlight.js/lib/languages/kotlin";
import markdown from "highlight.js/lib/languages/markdown";
import php from "highlight.js/lib/languages/php";
import python from "highlight.js/lib/languages/python";
import pythonRepl from "highlight.js/lib/languages/python-repl";
import r from "highlight.js/lib/languages/r";
import ruby from "highlight.js/lib/languages/ruby";
import rust from "highlight.js/lib/languages/rust";
import shell from "highlight.js/lib/languages/shell";
import sql from "highlight.js/lib/languages/sql";
import swift from "highlight.js/lib/languages/swift";
import typescript from "highlight.js/lib/languages/typescript";
import xml from "highlight.js/lib/languages/xml";
import yaml from "highlight.js/lib/languages/yaml";

/** name -> definition; each is registered with hljs the first time it is needed. */
const LANGUAGES = {
  bash,
  c,
  cpp,
  csharp,
  css,
  diff,
  go,
  java,
  javascript,
  json,
  kotlin,
  markdown,
  php,
  python,
  "python-repl": pythonRepl,
  r,
  ruby,
  rust,
  shell,
  sql,
  swift,
  typescript,
  xml,
  yaml,
  ini,
  dockerfile,
};

/** Common names models write after ``` that hljs only knows as aliases. */
const ALIASES = {
  py: "python",
  python3: "python",
  js: "javascript",
  jsx: "javascript",
  mjs: "javascript",
  ts: "typescript",
  tsx: "typescript",
  sh: "bash",
  zsh: "bash",
  console: "shell",
  html: "xml",
  svg: "xml",
  yml: "yaml",
  "c++": "cpp",
  cs: "csharp",
  rs: "rust",
  golang: "go",
  kt: "kotlin",
  rb: "ruby",
  toml: "ini",
  jsonc: "json",
  md: "markdown",
  docker: "dockerfile",
  pycon: "python-repl",
};

/** The language named in a fence's info string, lower-cased ("" when none). */
export function languageOf(info) {
  return (info || "").trim().split(/\s+/)[0].toLowerCase();
}

/** Highlighted HTML for `code`, or null when the language is unknown. */
export function highlight(code, lang) {
  const name = ALIASES[lang] ?? lang;
  const def = LANGUAGES[name];
  if (!def) return null;
  register(name);
  return hljs.highlight(code, { language: name, ignoreIllegals: true }).value;
}

/** Register a language and, first, every known language it embeds. */
function register(name) {
  if (hljs.getLanguage(name)) return;
  hljs.registerLanguage(name, LANGUAGES[name]);
  for (const sub of subLanguages(hljs.getLanguage(name))) {
    if (LANGUAGES[sub]) register(sub);
  }
}

/** Names of the sub-languages a language definition refers to. */
function subLanguages(def) {
  const names = new Set();
  const seen = new Set();
  const walk = (mode) => {
    if (!mode || typeof mode !== "object" || seen.has(mode)) return;
    seen.add(mode);
    for (const sub of [mode.subLanguage ?? []].flat()) names.add(sub);
    for (const child of [mode.contains, mode.variants, mode.starts].flat()) walk(child);
  };
  walk(def);
  return names;
}
