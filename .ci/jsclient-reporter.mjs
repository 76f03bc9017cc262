// A node:test reporter for .ci/run: one JSON line per top-level test,
// {"file": "objects.test.js", "name": "...", "status": "pass"|"fail"|"skip", "error": "..."},
// so that CI can key results by "file: test name".
import path from 'node:path';

function message(err) {
  if (!err) return undefined;
  const cause = err.cause ?? err;
  const text = cause && cause.message !== undefined ? String(cause.message) : String(cause);
  return text.split('\n')[0].slice(0, 300);
}

export default async function* reporter(source) {
  for await (const ev of source) {
    if (ev.type !== 'test:pass' && ev.type !== 'test:fail') continue;
    const d = ev.data;
    if (d.nesting !== 0) continue;
    const line = { file: d.file ? path.basename(d.file) : '', name: d.name };
    if (d.skip || d.todo) line.status = 'skip';
    else line.status = ev.type === 'test:pass' ? 'pass' : 'fail';
    if (line.status === 'fail') line.error = message(d.details && d.details.error);
    yield JSON.stringify(line) + '\n';
  }
}
