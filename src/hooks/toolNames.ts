/**
 * The built-in tools of each client that warden's hook judges, by the name the client's hook input
 * carries. `warden init` routes exactly these to `warden hook <client>` (its matcher), and the hook
 * denies any other tool name it is handed (fail closed): a tool a new client version adds is not
 * judged until it is listed here and parsed in that client's module. Pure constants.
 */

/** Claude Code: `Bash`; the file tools become patches. */
export const CLAUDE_SHELL_TOOLS = ['Bash'] as const;
export const CLAUDE_EDIT_TOOLS = ['Edit', 'MultiEdit', 'Write', 'NotebookEdit'] as const;
export const CLAUDE_HOOK_MATCHER = [...CLAUDE_SHELL_TOOLS, ...CLAUDE_EDIT_TOOLS].join('|');

/** Codex: `Bash` stands for its shell, exec_command and unified exec tools; `apply_patch` carries the patch text. */
export const CODEX_SHELL_TOOLS = ['Bash'] as const;
export const CODEX_EDIT_TOOLS = ['apply_patch'] as const;
export const CODEX_HOOK_MATCHER = `^(${[...CODEX_SHELL_TOOLS, ...CODEX_EDIT_TOOLS].join('|')})$`;

/** Gemini CLI: `run_shell_command`; `write_file` and `replace` become patches. */
export const GEMINI_SHELL_TOOLS = ['run_shell_command'] as const;
export const GEMINI_EDIT_TOOLS = ['write_file', 'replace'] as const;
export const GEMINI_HOOK_MATCHER = `^(${[...GEMINI_SHELL_TOOLS, ...GEMINI_EDIT_TOOLS].join('|')})$`;
