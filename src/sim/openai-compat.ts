// A minimal OpenAI-compatible upstream (POST /v1/chat/completions, GET /v1/models) so that requests
// sent through a real CPA produce real usage records. Mount it on the simulator via extraRoutes, or
// on any Hono app. Token counts are derived from the prompt so records differ between requests.
import type { Hono } from 'hono';

export interface OpenAiCompatOptions {
  /** Model id listed by /v1/models; CPA's start.sh configures "sim-model". */
  model?: string;
  /** Answer this many requests with a 500 before succeeding again (failure records). */
  failNext?: { count: number };
}

export interface OpenAiCompatStats {
  requests: number;
  failures: number;
}

export function mountOpenAiCompat(app: Hono, options: OpenAiCompatOptions = {}): OpenAiCompatStats {
  const model = options.model ?? 'sim-model';
  const stats: OpenAiCompatStats = { requests: 0, failures: 0 };
  let serial = 0;

  app.get('/v1/models', (c) =>
    c.json({ object: 'list', data: [{ id: model, object: 'model', created: 1_700_000_000, owned_by: 'sim' }] }),
  );

  app.post('/v1/chat/completions', async (c) => {
    stats.requests++;
    let body: { model?: unknown; messages?: unknown; stream?: unknown };
    try {
      body = await c.req.json();
    } catch {
      return c.json({ error: { message: 'body must be JSON', type: 'invalid_request_error' } }, 400);
    }
    if (options.failNext && options.failNext.count > 0) {
      options.failNext.count--;
      stats.failures++;
      return c.json({ error: { message: 'simulated upstream failure', type: 'server_error' } }, 500);
    }
    const messages = Array.isArray(body.messages) ? body.messages : [];
    const promptChars = JSON.stringify(messages).length;
    const usage = {
      prompt_tokens: Math.max(1, Math.ceil(promptChars / 4)),
      completion_tokens: 5,
      total_tokens: Math.max(1, Math.ceil(promptChars / 4)) + 5,
    };
    const id = `chatcmpl-sim-${++serial}`;
    const created = Math.floor(Date.now() / 1000);
    const usedModel = typeof body.model === 'string' ? body.model : model;
    if (body.stream === true) {
      const chunk = (delta: object, finish: string | null, withUsage: boolean) =>
        `data: ${JSON.stringify({
          id,
          object: 'chat.completion.chunk',
          created,
          model: usedModel,
          choices: [{ index: 0, delta, finish_reason: finish }],
          ...(withUsage ? { usage } : {}),
        })}\n\n`;
      const text =
        chunk({ role: 'assistant', content: 'hello from sim' }, null, false) +
        chunk({}, 'stop', true) +
        'data: [DONE]\n\n';
      return c.body(text, 200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache' });
    }
    return c.json({
      id,
      object: 'chat.completion',
      created,
      model: usedModel,
      choices: [{ index: 0, message: { role: 'assistant', content: 'hello from sim' }, finish_reason: 'stop' }],
      usage,
    });
  });

  return stats;
}
