/**
 * Fake model APIs on 127.0.0.1 that play the model for a real agent client, each in that client's
 * wire format: Anthropic Messages with SSE streaming (Claude Code, via ANTHROPIC_BASE_URL), the
 * Gemini API's streamGenerateContent (Gemini CLI, via GOOGLE_GEMINI_BASE_URL) and OpenAI Responses
 * with SSE (Codex, via a model provider's base_url). The model is a script: step N of the
 * conversation (the number of tool results the client has sent back so far) is answered with the
 * script's step N, a tool call or a final text. Every request is kept, so a test can read what the
 * client told the model (each tool's result).
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { listenOnLoopback } from './loopback.ts';

export type Step = { tool: string; input: Record<string, unknown> } | { text: string };

export interface FakeModel {
  url: string;
  /** Every request body the client sent to the model endpoint, parsed. */
  requests: Array<Record<string, unknown>>;
  close(): Promise<void>;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function sse(res: ServerResponse, events: Array<{ event?: string; data: unknown }>): void {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  for (const e of events) res.write(`${e.event ? `event: ${e.event}\n` : ''}data: ${JSON.stringify(e.data)}\n\n`);
  res.end();
}

async function serve(handle: (path: string, body: Record<string, unknown>, res: ServerResponse) => void): Promise<FakeModel> {
  const requests: Array<Record<string, unknown>> = [];
  const server = createServer(async (req, res) => {
    const text = await readBody(req);
    let body: Record<string, unknown> = {};
    try {
      body = text ? (JSON.parse(text) as Record<string, unknown>) : {};
    } catch {
      // not JSON: answered below like any other unknown call
    }
    const path = (req.url ?? '/').split('?')[0]!;
    requests.push({ ...body, __path: path, __method: req.method });
    try {
      handle(path, body, res);
    } catch (error) {
      res.writeHead(500, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { message: String(error) } }));
    }
  });
  const port = await listenOnLoopback(server);
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

// ---------------------------------------------------------------- Anthropic Messages (Claude Code)

type AnthropicMessage = { role: string; content: string | Array<Record<string, unknown>> };

/** The tool results Claude Code sent back, by tool_use id, across all requests. */
export function anthropicToolResults(model: FakeModel): Map<string, { text: string; isError: boolean }> {
  const out = new Map<string, { text: string; isError: boolean }>();
  for (const r of model.requests) {
    for (const m of (r.messages ?? []) as AnthropicMessage[]) {
      if (typeof m.content === 'string') continue;
      for (const block of m.content) {
        if (block.type !== 'tool_result') continue;
        const c = block.content;
        const text = typeof c === 'string' ? c : Array.isArray(c) ? c.map((x: { text?: string }) => x.text ?? '').join('\n') : '';
        out.set(String(block.tool_use_id), { text, isError: block.is_error === true });
      }
    }
  }
  return out;
}

/**
 * Claude Code's main loop sends the tools; its side requests (titles, summaries) send none and
 * get a plain text answer. `toolUseId(step)` names each scripted call, so the test can find its
 * audit row and its result.
 */
export function fakeAnthropic(script: Step[], toolUseId = (n: number) => `toolu_warden_${n}`): Promise<FakeModel> {
  return serve((path, body, res) => {
    if (!path.endsWith('/v1/messages')) {
      if (path.endsWith('/count_tokens')) {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ input_tokens: 10 }));
        return;
      }
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ type: 'error', error: { type: 'not_found_error', message: 'not here' } }));
      return;
    }
    const messages = (body.messages ?? []) as AnthropicMessage[];
    const tools = (body.tools ?? []) as unknown[];
    const step = messages.filter((m) => m.role === 'assistant').length;
    const next: Step = tools.length === 0 ? { text: 'ok' } : (script[step] ?? { text: 'done' });
    const model = String(body.model ?? 'claude-sonnet-4-5');
    const start = { type: 'message_start', message: { id: `msg_${step}`, type: 'message', role: 'assistant', model, content: [], stop_reason: null, stop_sequence: null, usage: { input_tokens: 10, output_tokens: 1 } } };
    const events: Array<{ event: string; data: unknown }> = [{ event: 'message_start', data: start }];
    if ('tool' in next) {
      events.push(
        { event: 'content_block_start', data: { type: 'content_block_start', index: 0, content_block: { type: 'tool_use', id: toolUseId(step), name: next.tool, input: {} } } },
        { event: 'content_block_delta', data: { type: 'content_block_delta', index: 0, delta: { type: 'input_json_delta', partial_json: JSON.stringify(next.input) } } },
        { event: 'content_block_stop', data: { type: 'content_block_stop', index: 0 } },
        { event: 'message_delta', data: { type: 'message_delta', delta: { stop_reason: 'tool_use', stop_sequence: null }, usage: { output_tokens: 5 } } },
      );
    } else {
      events.push(
        { event: 'content_block_start', data: { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } } },
        { event: 'content_block_delta', data: { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: next.text } } },
        { event: 'content_block_stop', data: { type: 'content_block_stop', index: 0 } },
        { event: 'message_delta', data: { type: 'message_delta', delta: { stop_reason: 'end_turn', stop_sequence: null }, usage: { output_tokens: 5 } } },
      );
    }
    events.push({ event: 'message_stop', data: { type: 'message_stop' } });
    sse(res, events);
  });
}

// ---------------------------------------------------------------- Gemini API (Gemini CLI)

type GeminiContent = { role?: string; parts?: Array<Record<string, unknown>> };

/** The function responses Gemini CLI sent back, in order, with their tool name. */
export function geminiToolResults(model: FakeModel): Array<{ name: string; response: unknown }> {
  let longest: GeminiContent[] = [];
  for (const r of model.requests) {
    const contents = (r.contents ?? []) as GeminiContent[];
    if (contents.length > longest.length) longest = contents;
  }
  return longest.flatMap((c) => (c.parts ?? []).filter((p) => p.functionResponse).map((p) => p.functionResponse as { name: string; response: unknown }));
}

/**
 * Gemini CLI's main loop sends `tools`; its side requests (routing, checks) get a plain text
 * answer. Both `:streamGenerateContent` (SSE) and `:generateContent` are answered.
 */
export function fakeGemini(script: Step[]): Promise<FakeModel> {
  return serve((path, body, res) => {
    const stream = path.endsWith(':streamGenerateContent');
    if (!stream && !path.endsWith(':generateContent')) {
      if (path.endsWith(':countTokens')) {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ totalTokens: 10 }));
        return;
      }
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { code: 404, message: 'not here', status: 'NOT_FOUND' } }));
      return;
    }
    const contents = (body.contents ?? []) as GeminiContent[];
    const tools = (body.tools ?? []) as unknown[];
    const step = contents.filter((c) => c.role === 'model').length;
    const next: Step = tools.length === 0 ? { text: 'ok' } : (script[step] ?? { text: 'done' });
    const part = 'tool' in next ? { functionCall: { name: next.tool, args: next.input } } : { text: next.text };
    const chunk = {
      candidates: [{ content: { role: 'model', parts: [part] }, finishReason: 'STOP', index: 0 }],
      usageMetadata: { promptTokenCount: 10, candidatesTokenCount: 5, totalTokenCount: 15 },
      modelVersion: 'gemini-2.5-flash',
    };
    if (stream) sse(res, [{ data: chunk }]);
    else {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(chunk));
    }
  });
}

// ---------------------------------------------------------------- OpenAI Responses (Codex)

type ResponsesItem = Record<string, unknown> & { type?: string };

/** The tool outputs Codex sent back, by call id. */
export function responsesToolResults(model: FakeModel): Map<string, string> {
  const out = new Map<string, string>();
  for (const r of model.requests) {
    for (const item of (r.input ?? []) as ResponsesItem[]) {
      if (item.type !== 'function_call_output' && item.type !== 'custom_tool_call_output') continue;
      const o = item.output;
      out.set(String(item.call_id), typeof o === 'string' ? o : JSON.stringify(o));
    }
  }
  return out;
}

/**
 * Codex's turn requests: step N is the number of tool outputs in `input`. A step whose tool is
 * `apply_patch` is sent as a freeform custom tool call (its input is the patch text under
 * `input.patch`); any other as a function call with JSON arguments.
 */
export function fakeResponses(script: Step[], callId = (n: number) => `call_warden_${n}`): Promise<FakeModel> {
  return serve((path, body, res) => {
    if (!path.endsWith('/responses')) {
      if (path.endsWith('/models')) {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ object: 'list', data: [], models: [] }));
        return;
      }
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { message: 'not here', type: 'invalid_request_error' } }));
      return;
    }
    const input = (body.input ?? []) as ResponsesItem[];
    const step = input.filter((i) => i.type === 'function_call_output' || i.type === 'custom_tool_call_output').length;
    const next: Step = script[step] ?? { text: 'done' };
    const id = `resp_${step}_${Date.now()}`;
    let item: Record<string, unknown>;
    if ('tool' in next && next.tool === 'apply_patch' && typeof next.input.patch === 'string') {
      item = { type: 'custom_tool_call', id: `ctc_${step}`, status: 'completed', call_id: callId(step), name: 'apply_patch', input: next.input.patch };
    } else if ('tool' in next) {
      // An MCP tool is offered inside a namespace (`mcp__warden` holding `shell`), and called by both names.
      const ns = /^(mcp__[^_]+(?:_[^_]+)*)__(.+)$/.exec(next.tool);
      const names = ns ? { namespace: ns[1], name: ns[2] } : { name: next.tool };
      item = { type: 'function_call', id: `fc_${step}`, status: 'completed', call_id: callId(step), ...names, arguments: JSON.stringify(next.input) };
    } else {
      item = { type: 'message', id: `msg_${step}`, status: 'completed', role: 'assistant', content: [{ type: 'output_text', text: next.text, annotations: [] }] };
    }
    sse(res, [
      { event: 'response.created', data: { type: 'response.created', response: { id } } },
      { event: 'response.output_item.done', data: { type: 'response.output_item.done', output_index: 0, item } },
      { event: 'response.completed', data: { type: 'response.completed', response: { id, usage: { input_tokens: 10, input_tokens_details: null, output_tokens: 5, output_tokens_details: null, total_tokens: 15 } } } },
    ]);
  });
}
