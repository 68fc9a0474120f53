/**
 * Every `warden` sub-command, one module each. A module exports `register(program)` and keeps its
 * own options; add a line here to make a command appear.
 */
import type { Command } from 'commander';

type Registrar = (program: Command) => void;

export async function registerAll(program: Command): Promise<void> {
  const modules: Array<Promise<{ register: Registrar }>> = [
    import('./exec.ts'),
    import('./audit.ts'),
    import('./verify.ts'),
    import('./checkPatch.ts'),
    import('./classify.ts'),
    import('./inspect.ts'),
    import('./replay.ts'),
    import('./approve.ts'),
    import('./serve.ts'),
  ];
  for (const mod of await Promise.all(modules)) mod.register(program);
}
