/** Net membership delta of a request: ids added and removed, each at most once. */
export class MembershipDelta {
  readonly added = new Set<string>();
  readonly removed = new Set<string>();

  add(ids: string[]): void {
    for (const id of ids) if (!this.removed.delete(id)) this.added.add(id);
  }
  remove(ids: string[]): void {
    for (const id of ids) if (!this.added.delete(id)) this.removed.add(id);
  }
  get empty(): boolean {
    return this.added.size === 0 && this.removed.size === 0;
  }
}
