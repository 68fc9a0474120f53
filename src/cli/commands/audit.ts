/**
 * `warden audit [--session ID] [--json]`: what was asked, decided and run, one row per request,
 * folded from the store by the requests projection.
 */
import type { Command } from 'commander';
import { clip, describeRequest } from '../../present/text.ts';
import { fold } from '../../projections/projection.ts';
import { auditRow, requestsProjection, type RequestSummary } from '../../projections/requests.projection.ts';
import { addStoreOption, openStoreFromFlags, setupLogging } from '../options.ts';

interface AuditFlags {
  session?: string;
  json?: boolean;
  store?: string;
  logLevel?: string;
}

const what = (s: RequestSummary) => describeRequest({ kind: s.kind, command: s.command, files: s.files });
const col = (text: string, width: number) => clip(text, width, { pad: true });

export function renderTable(rows: RequestSummary[]): string {
  const header = `${col('time', 20)} ${col('session', 14)} ${col('outcome', 16)} ${col('decision (source)', 34)} ${col('exit', 5)} command`;
  const lines = rows.map((s) => {
    const decision = s.decision ? `${s.decision} (${s.decisionSource}${s.decidedBy ? ` ${s.decidedBy}` : ''})` : '-';
    return [
      col(s.requestedAt.replace('T', ' ').slice(0, 19), 20),
      col(s.sessionId, 14),
      col(s.state + (s.interrupted ? '*' : ''), 16),
      col(decision, 34),
      col(s.exitCode === null ? '-' : String(s.exitCode), 5),
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
