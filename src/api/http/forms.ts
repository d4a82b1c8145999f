import type { FastifyInstance } from 'fastify';

/**
 * `application/x-www-form-urlencoded` bodies (the web app's forms, which work without JavaScript): a
 * key given once is a string, a key given several times (checkboxes) a string array.
 */
export function parseForm(text: string): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of new URLSearchParams(text)) {
    const prev = out[k];
    if (prev === undefined) out[k] = v;
    else if (Array.isArray(prev)) prev.push(v);
    else out[k] = [prev, v];
  }
  return out;
}

export function registerFormParser(app: FastifyInstance, bodyLimit: number): void {
  app.addContentTypeParser(
    'application/x-www-form-urlencoded',
    { parseAs: 'string', bodyLimit },
    (_req, body, done) => {
      try {
        done(null, parseForm(body as string));
      } catch (err) {
        done(err as Error, undefined);
      }
    },
  );
  // bulk imports may be sent as the raw file
  app.addContentTypeParser('text/csv', { parseAs: 'string', bodyLimit }, (_req, body, done) =>
    done(null, body),
  );
}

/** One value of a form field (the first, when repeated). */
export function field(body: unknown, key: string): string | undefined {
  const v = (body as Record<string, unknown> | null | undefined)?.[key];
  if (Array.isArray(v)) return typeof v[0] === 'string' ? v[0] : undefined;
  return typeof v === 'string' ? v : undefined;
}

/** Every value of a form field. */
export function fields(body: unknown, key: string): string[] {
  const v = (body as Record<string, unknown> | null | undefined)?.[key];
  if (Array.isArray(v)) return v.filter((x): x is string => typeof x === 'string');
  return typeof v === 'string' ? [v] : [];
}
