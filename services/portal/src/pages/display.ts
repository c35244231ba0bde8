/** A claim or API field as text for a page: beneficiary lists as "Name (relationship, 60%)", other objects as JSON. */
export function display(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (Array.isArray(v)) {
    if (v.length > 0 && v.every(isBeneficiary))
      return v.map((b) => `${b.name} (${b.relationship}, ${b.sharePercent}%)`).join('; ');
    if (v.length === 0) return '(none)';
    return v.map(display).join(', ');
  }
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

/** "changedAt" -> "Changed at", for field names shown as labels. */
export function label(name: string): string {
  const words = name.replace(/([a-z0-9])([A-Z])/g, '$1 $2').toLowerCase();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

function isBeneficiary(
  v: unknown,
): v is { name: unknown; relationship: unknown; sharePercent: unknown } {
  return (
    typeof v === 'object' && v !== null && 'name' in v && 'relationship' in v && 'sharePercent' in v
  );
}
