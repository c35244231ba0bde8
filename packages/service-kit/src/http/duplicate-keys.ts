/**
 * The first object member name that appears twice in one object of a JSON text, or undefined.
 * JSON.parse keeps the last of repeated names silently (RFC 8259 §4 leaves it undefined), so
 * two parsers of the same body (a gateway's and ours) could read different values; services
 * refuse such bodies instead. Call it on text JSON.parse accepted: it only tracks strings,
 * braces, brackets and commas. `fold` makes names that differ only in case collide (SCIM).
 */
export function firstDuplicateKey(
  text: string,
  fold: (name: string) => string = (n) => n,
): string | undefined {
  // One entry per open container: the names seen so far in an object, null for an array.
  const open: (Set<string> | null)[] = [];
  let expectName = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      const start = i;
      for (i++; text.charCodeAt(i) !== 0x22; i++) if (text.charCodeAt(i) === 0x5c) i++;
      const names = open[open.length - 1];
      if (!names || !expectName) continue;
      expectName = false;
      const raw = text.slice(start, i + 1);
      const name = raw.includes('\\') ? (JSON.parse(raw) as string) : raw.slice(1, -1);
      const key = fold(name);
      if (names.has(key)) return name;
      names.add(key);
    } else if (c === 0x7b) {
      open.push(new Set());
      expectName = true;
    } else if (c === 0x5b) open.push(null);
    else if (c === 0x7d || c === 0x5d) open.pop();
    else if (c === 0x2c) expectName = open[open.length - 1] != null;
  }
  return undefined;
}
