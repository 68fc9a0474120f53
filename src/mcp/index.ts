/**
 * src/mcp: warden's MCP stdio server. `server.ts` builds it (tools, one session per connection),
 * `channel.ts` asks the person through elicitation, `answer.ts` reads their answer strictly,
 * `elicitation.ts` writes the question (with the Codex metadata fields), `result.ts` writes what
 * the agent gets back, `responseGuard.ts` keeps answers the SDK would drop from becoming silence.
 * What it may import: README.md here (checked by test/unit/architecture.test.ts).
 */
export { buildServer, type BuiltServer, type ServerDeps } from './server.ts';
export { createElicitationChannel, supportsFormElicitation } from './channel.ts';
export { interpretAnswer } from './answer.ts';
export { createResponseGuard } from './responseGuard.ts';
