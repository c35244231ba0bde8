/** A claim or field value as text for a page (arrays joined, objects as JSON, epoch seconds as-is). */
export function display(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (Array.isArray(v)) return v.map(display).join(', ');
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}
