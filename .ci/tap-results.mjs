// Turns node:test TAP output into the JSON lines of .ci/jsclient-reporter.mjs,
// one per top-level test: {"file", "name", "status": "pass"|"fail"|"skip"}.
// The dashboard check (../shared/dashboard/run.sh) writes TAP only.
//
//   node .ci/tap-results.mjs results/tests.tap dashboard.test.js
import fs from 'node:fs';

const [tapPath, file] = process.argv.slice(2);
for (const line of fs.readFileSync(tapPath, 'utf8').split('\n')) {
  // Top-level results start the line; subtests and details are indented.
  const m = /^(not )?ok \d+ - (.*?)(?: # (SKIP|TODO)\b.*)?$/.exec(line);
  if (!m) continue;
  const status = m[3] ? 'skip' : m[1] ? 'fail' : 'pass';
  const name = m[2].replace(/\\([\\#])/g, '$1'); // TAP escapes \ and #
  process.stdout.write(JSON.stringify({ file, name, status }) + '\n');
}
