/**
 * The API's own error body (README "Errors"): exactly `error` (a snake_case code), `message`
 * (a sentence) and optionally `details` (field + message each). Returns what is wrong, or
 * undefined when the body has that shape.
 */
export function apiErrorShapeProblem(body: unknown): string | undefined {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return 'not a JSON object';
  const b = body as Record<string, unknown>;
  const extra = Object.keys(b).filter((k) => !['error', 'message', 'details'].includes(k));
  if (extra.length) return `unexpected keys ${extra.join(', ')}`;
  if (typeof b.error !== 'string' || !/^[a-z]+(_[a-z]+)*$/.test(b.error))
    return 'error is not a snake_case code';
  if (typeof b.message !== 'string' || b.message.length === 0) return 'message is not a sentence';
  if (b.details === undefined) return undefined;
  if (!Array.isArray(b.details) || b.details.length === 0) return 'details is not a non-empty list';
  for (const d of b.details as unknown[]) {
    const keys = typeof d === 'object' && d !== null ? Object.keys(d).sort().join(',') : '';
    if (keys !== 'field,message') return 'a detail is not { field, message }';
    const { field, message } = d as Record<string, unknown>;
    if (typeof field !== 'string' || typeof message !== 'string' || message.length === 0)
      return 'a detail field/message is not a string';
  }
  return undefined;
}

/** Jest-friendly form: the body as it should be, so a failure shows both. */
export const expectApiErrorShape = (body: unknown): void => {
  const problem = apiErrorShapeProblem(body);
  if (problem)
    throw new Error(`not the API error shape (${problem}): ${JSON.stringify(body).slice(0, 500)}`);
};
