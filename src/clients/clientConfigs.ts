/**
 * The one table of what `warden init <client>` writes: for each client and scope, which files and
 * what goes in them. Every client gets warden's MCP server (absolute `node` and warden path, since a
 * client may run another Node whose ABI warden's better-sqlite3 was not built for) with the
 * settings it needs to wait for warden and leave the approving to it; a client with pre-tool hooks
 * also gets warden's hook on its built-in shell and edit tools (the names in src/hooks/toolNames.ts),
 * so the agent cannot go around warden with them. Pure: paths come from the context given.
 */
import { join } from 'node:path';
import { quote } from 'shell-quote';
import { stringify as stringifyToml } from 'smol-toml';
import { CLAUDE_HOOK_MATCHER, CODEX_HOOK_MATCHER, GEMINI_HOOK_MATCHER } from '../hooks/toolNames.ts';
import type { JsonEdit, JsonObject } from './configEdit.ts';

export const INIT_CLIENTS = ['claude-code', 'codex', 'gemini', 'cursor', 'vscode'] as const;
export type InitClient = (typeof INIT_CLIENTS)[number];
export type Scope = 'project' | 'user';

export interface InitContext {
  scope: Scope;
  /** The project's root (the current directory), for project scope. */
  projectDir: string;
  home: string;
  env: Record<string, string | undefined>;
  platform: NodeJS.Platform;
  /** Absolute paths of the Node that runs warden and of warden's bin/warden.js. */
  node: string;
  wardenBin: string;
  /** The store to name explicitly (--store); absent: warden's default store. */
  store?: string;
  /** Policy flags given to both `serve` and the hooks (`--approval untrusted`), already checked. */
  policyArgs?: string[];
}

/**
 * A setting in the user's file that would keep warden's entries from ever running (hooks switched
 * off): init refuses rather than leave the person believing the client's tools are judged.
 * Returns the reason, or null.
 */
export type Blocker = (doc: Record<string, unknown>) => string | null;

export type FilePlan =
  | { path: string; format: 'json'; edits: JsonEdit[]; blocker?: Blocker }
  /** A marked TOML block; `owned` are the tables it defines. */
  | { path: string; format: 'toml'; block: string; owned: string[]; blocker?: Blocker };

const at = (doc: Record<string, unknown>, ...path: string[]): unknown =>
  path.reduce<unknown>((here, key) => (here && typeof here === 'object' ? (here as Record<string, unknown>)[key] : undefined), doc);

export interface ClientPlan {
  files: FilePlan[];
  /** Said after writing: what the person still has to do, or what this client cannot do. */
  notes: string[];
}

/**
 * The PreToolUse hook's timeout in seconds: above warden's default decision timeout (50 s) plus
 * its start-up, so warden's own deny answers before the client gives up on the hook (Codex lets
 * a timed-out hook's tool call run).
 */
export const HOOK_TIMEOUT_S = 80;
/** warden's MCP tools can wait up to 120 s for a person (with a progress token) and then run. */
const MCP_TOOL_TIMEOUT_S = 600;

function serveArgs(ctx: InitContext): { command: string; args: string[]; env?: Record<string, string> } {
  return { command: ctx.node, args: [ctx.wardenBin, 'serve', ...(ctx.policyArgs ?? [])], ...(ctx.store ? { env: { WARDEN_STORE: ctx.store } } : {}) };
}

export function hookCommand(ctx: InitContext, client: 'claude-code' | 'codex' | 'gemini'): string {
  return quote([ctx.node, ctx.wardenBin, 'hook', client, ...(ctx.store ? ['--store', ctx.store] : []), ...(ctx.policyArgs ?? [])]);
}

function claudeCode(ctx: InitContext): ClientPlan {
  const configDir = ctx.env.CLAUDE_CONFIG_DIR || join(ctx.home, '.claude');
  // The project's hooks name this machine's node and warden: settings.local.json, which Claude Code
  // reads for this checkout only and keeps out of git, not the shared settings.json.
  const settings = ctx.scope === 'project' ? join(ctx.projectDir, '.claude', 'settings.local.json') : join(configDir, 'settings.json');
  // Project servers live in .mcp.json; user servers in ~/.claude.json (in CLAUDE_CONFIG_DIR when set).
  const servers = ctx.scope === 'project' ? join(ctx.projectDir, '.mcp.json') : ctx.env.CLAUDE_CONFIG_DIR ? join(ctx.env.CLAUDE_CONFIG_DIR, '.claude.json') : join(ctx.home, '.claude.json');
  const hook = (timeout?: number) => ({ type: 'command', command: hookCommand(ctx, 'claude-code'), ...(timeout ? { timeout } : {}) });
  const group = (timeout?: number): JsonObject => ({ matcher: CLAUDE_HOOK_MATCHER, hooks: [hook(timeout)] });
  const settingsEdits: JsonEdit[] = [
    { kind: 'hookGroup', path: ['hooks', 'PreToolUse'], group: group(HOOK_TIMEOUT_S) },
    { kind: 'hookGroup', path: ['hooks', 'PostToolUse'], group: group() },
    { kind: 'hookGroup', path: ['hooks', 'PostToolUseFailure'], group: group() },
    // A call warden handed to Claude Code's prompt (`--ask client`) and the person refused there.
    { kind: 'hookGroup', path: ['hooks', 'PermissionDenied'], group: group() },
    // The turn's end closes such a call that was never run (a refusal with no PermissionDenied, or -p).
    { kind: 'hookGroup', path: ['hooks', 'Stop'], group: { hooks: [hook()] } },
  ];
  // A project's .mcp.json server is not started until the person enables it; they enable it by running init.
  if (ctx.scope === 'project') settingsEdits.push({ kind: 'member', path: ['enabledMcpjsonServers'], value: 'warden' });
  return {
    files: [
      // alwaysLoad: `claude -p` would otherwise make its first model request before warden has answered initialize.
      { path: servers, format: 'json', edits: [{ kind: 'key', path: ['mcpServers', 'warden'], value: { type: 'stdio', ...serveArgs(ctx), alwaysLoad: true } }] },
      { path: settings, format: 'json', edits: settingsEdits, blocker: (doc) => (doc.disableAllHooks === true ? '"disableAllHooks": true would keep warden\'s hooks from running' : null) },
    ],
    notes:
      ctx.scope === 'user'
        ? ['Claude Code rewrites ~/.claude.json while it runs: run `warden init` with Claude Code closed, or check `claude mcp list` afterwards.']
        : [],
  };
}

function codex(ctx: InitContext): ClientPlan {
  const home = ctx.env.CODEX_HOME || join(ctx.home, '.codex');
  const dir = ctx.scope === 'project' ? join(ctx.projectDir, '.codex') : home;
  const server = {
    ...serveArgs(ctx),
    // Without `required` `codex exec` starts its first turn before warden's tools are listed.
    required: true,
    startup_timeout_sec: 30,
    tool_timeout_sec: MCP_TOOL_TIMEOUT_S,
    // warden asks the person itself; Codex's own approval of each warden call would ask twice (and reject every call in exec).
    default_tools_approval_mode: 'approve',
  };
  const block = stringifyToml({ mcp_servers: { warden: server } });
  const hook = (timeout: number) => ({ type: 'command', command: hookCommand(ctx, 'codex'), timeout });
  const group = (timeout: number): JsonObject => ({ matcher: CODEX_HOOK_MATCHER, hooks: [hook(timeout)] });
  return {
    files: [
      {
        path: join(dir, 'config.toml'),
        format: 'toml',
        block,
        owned: ['mcp_servers.warden'],
        blocker: (doc) => (at(doc, 'features', 'hooks') === false || at(doc, 'features', 'codex_hooks') === false ? '[features] turns hooks off, so warden\'s hooks would never run' : null),
      },
      {
        path: join(dir, 'hooks.json'),
        format: 'json',
        edits: [
          { kind: 'hookGroup', path: ['hooks', 'PreToolUse'], group: group(HOOK_TIMEOUT_S) },
          { kind: 'hookGroup', path: ['hooks', 'PostToolUse'], group: group(30) },
        ],
      },
    ],
    notes: [
      // Codex runs a new or changed hook only once the person has reviewed it; until then its own tools are not judged.
      'Codex runs new hooks only after you review them: start `codex`, and trust warden\'s PreToolUse and PostToolUse hooks when it asks (or in /hooks). Until then Codex\'s own shell and apply_patch are not judged by warden.',
      ...(ctx.scope === 'project' ? ['Codex reads .codex/ in a project only once the project is trusted (trust_level = "trusted" in ~/.codex/config.toml, or answer its trust prompt).'] : []),
    ],
  };
}

function gemini(ctx: InitContext): ClientPlan {
  const settings = ctx.scope === 'project' ? join(ctx.projectDir, '.gemini', 'settings.json') : join(ctx.home, '.gemini', 'settings.json');
  const hook = (timeoutMs: number) => ({ type: 'command', name: 'warden', command: hookCommand(ctx, 'gemini'), timeout: timeoutMs });
  const group = (timeoutMs: number): JsonObject => ({ matcher: GEMINI_HOOK_MATCHER, hooks: [hook(timeoutMs)] });
  return {
    files: [
      {
        path: settings,
        format: 'json',
        edits: [
          // trust: Gemini's own confirmation of each warden call would ask twice; warden asks the person.
          { kind: 'key', path: ['mcpServers', 'warden'], value: { ...serveArgs(ctx), trust: true, timeout: MCP_TOOL_TIMEOUT_S * 1000 } },
          { kind: 'hookGroup', path: ['hooks', 'BeforeTool'], group: group(HOOK_TIMEOUT_S * 1000) },
          { kind: 'hookGroup', path: ['hooks', 'AfterTool'], group: group(30_000) },
          // The turn's end closes a call handed to Gemini's prompt that it never ran (Gemini reports no refusal).
          { kind: 'hookGroup', path: ['hooks', 'AfterAgent'], group: { hooks: [hook(30_000)] } },
        ],
        blocker: (doc) => {
          if (at(doc, 'hooksConfig', 'enabled') === false) return '"hooksConfig.enabled": false would keep warden\'s hooks from running';
          const disabled = at(doc, 'hooksConfig', 'disabled');
          return Array.isArray(disabled) && disabled.some((d) => typeof d === 'string' && (d === 'warden' || /warden/.test(d))) ? '"hooksConfig.disabled" lists warden\'s hook' : null;
        },
      },
    ],
    // User-level servers too stay "Disabled" in a folder Gemini does not trust.
    notes: ['Gemini CLI starts MCP servers (and reads a project\'s .gemini/settings.json) only in a trusted folder: trust the project when asked, or with /permissions; `gemini mcp list` should then say Connected.'],
  };
}

function cursor(ctx: InitContext): ClientPlan {
  const file = ctx.scope === 'project' ? join(ctx.projectDir, '.cursor', 'mcp.json') : join(ctx.home, '.cursor', 'mcp.json');
  return {
    files: [{ path: file, format: 'json', edits: [{ kind: 'key', path: ['mcpServers', 'warden'], value: { type: 'stdio', ...serveArgs(ctx) } }] }],
    notes: ["Cursor's own terminal and edit tools are not routed through warden (no warden hook for Cursor yet): see docs/clients/cursor.md."],
  };
}

/** VS Code's user folder per platform (where its user-level mcp.json lives). */
function vscodeUserDir(ctx: InitContext): string {
  if (ctx.platform === 'darwin') return join(ctx.home, 'Library', 'Application Support', 'Code', 'User');
  if (ctx.platform === 'win32') return join(ctx.env.APPDATA || join(ctx.home, 'AppData', 'Roaming'), 'Code', 'User');
  return join(ctx.env.XDG_CONFIG_HOME || join(ctx.home, '.config'), 'Code', 'User');
}

function vscode(ctx: InitContext): ClientPlan {
  const file = ctx.scope === 'project' ? join(ctx.projectDir, '.vscode', 'mcp.json') : join(vscodeUserDir(ctx), 'mcp.json');
  return {
    files: [{ path: file, format: 'json', edits: [{ kind: 'key', path: ['servers', 'warden'], value: { type: 'stdio', ...serveArgs(ctx) } }] }],
    notes: ["VS Code's built-in terminal and edit tools are not routed through warden (no warden hook for VS Code yet): see docs/clients/vscode.md."],
  };
}

const PLANS: Record<InitClient, (ctx: InitContext) => ClientPlan> = { 'claude-code': claudeCode, codex, gemini, cursor, vscode };

export function clientPlan(client: InitClient, ctx: InitContext): ClientPlan {
  return PLANS[client](ctx);
}
