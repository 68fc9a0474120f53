/**
 * `warden audit [--session ID] [--json]`: what was asked, decided and run, one row per request,
 * folded from the store by the requests projection.
 */
import type { Command } from 'commander';
import { quote } from 'shell-quote';
import { fold } from '../../projections/projection.ts';
import { auditRow, requestsProjection, type RequestSummary } from '../../projections/requests.projection.ts';
import { addStoreOption, openStoreFromFlags, setupLogging } from '../options.ts';

interface AuditFlags {
  session?: string;
  json?: boolean;
  store?: string;
  logLevel?: string;
}

function what(s: RequestSummary): string {
  if (s.kind === 'exec') return quote(s.command ?? []);
  const files = s.files ?? [];
  return files.length > 0 ? `patch: ${files.map((f) => `${f.kind} ${f.path}`).join(', ')}` : 'patch';
}

function clip(text: string, width: number): string {
  return text.length <= width ? text.padEnd(width) : `${text.slice(0, width - 1)}…`;
}

export function renderTable(rows: RequestSummary[]): string {
  const header = `${clip('time', 20)} ${clip('session', 14)} ${clip('outcome', 16)} ${clip('decision (source)', 34)} ${clip('exit', 5)} command`;
  const lines = rows.map((s) => {
    const decision = s.decision ? `${s.decision} (${s.decisionSource}${s.decidedBy ? ` ${s.decidedBy}` : ''})` : '-';
    return [
      clip(s.requestedAt.replace('T', ' ').slice(0, 19), 20),
      clip(s.sessionId, 14),
      clip(s.state + (s.interrupted ? '*' : ''), 16),
      clip(decision, 34),
      clip(s.exitCode === null ? '-' : String(s.exitCode), 5),
      what(s),
    ].join(' ');
  });
  return [header, ...lines].join('\n') + '\n';
}

export function register(program: Command): void {
  const cmd = program
    .command('audit')
    .description('list what was asked, decided and run')
    .option('--session <id>', 'only this session')
    .option('--json', 'one JSON object per request per line');
  addStoreOption(cmd);
  cmd.action(async (flags: AuditFlags) => {
    setupLogging(flags);
    const store = await openStoreFromFlags(flags);
    try {
      const doc = fold(requestsProjection, await store.readAll(1));
      const rows = [...doc.byId.values()].filter((s) => !flags.session || s.sessionId === flags.session);
      if (flags.json) {
        for (const s of rows) process.stdout.write(`${JSON.stringify(auditRow(s))}\n`);
      } else {
        process.stdout.write(renderTable(rows));
      }
    } finally {
      await store.close();
    }
  });
}
