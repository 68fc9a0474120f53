// A second reporter for the test runner: it writes nothing while the tests run and, at the end, one
// block per failed test (file, name, error, the first lines of the stack). CI shows only the tail of
// what the run printed; without this the names of the failed tests scroll out of it (two landings
// failed with "fail 2" and no way to tell which two).
import { relative } from 'node:path';

const STACK_LINES = 12;
const MESSAGE_CHARS = 4000;

export default async function* failures(source) {
  const failed = [];
  for await (const event of source) {
    if (event.type !== 'test:fail') continue;
    const { name, file, details, nesting } = event.data;
    // A suite that fails only because a test inside it failed says nothing new.
    if (details?.type === 'suite' && /subtest/i.test(String(details?.error?.message ?? ''))) continue;
    failed.push({ name, file, nesting, error: details?.error, duration: details?.duration_ms });
  }
  if (failed.length === 0) return;
  yield `\n######## ${failed.length} failed test(s) ########\n`;
  for (const [index, { name, file, error, duration }] of failed.entries()) {
    yield `\n#### ${index + 1}. ${file ? relative(process.cwd(), file) : '(no file)'}\n`;
    yield `#### ${name} (${Math.round(duration ?? 0)} ms)\n`;
    yield `${describe(error)}\n`;
  }
  yield `\n######## end of failed tests ########\n`;
}

function describe(error) {
  if (!error) return '(no error)';
  // The runner wraps a test's own error: the cause is what the test threw.
  const cause = error.cause ?? error;
  const message = String(cause?.message ?? cause).slice(0, MESSAGE_CHARS);
  const stack = String(cause?.stack ?? '')
    .split('\n')
    .filter((line) => /^\s+at /.test(line))
    .slice(0, STACK_LINES)
    .join('\n');
  const code = error.failureType ? `[${error.failureType}] ` : '';
  return `${code}${message}${stack ? `\n${stack}` : ''}`;
}
