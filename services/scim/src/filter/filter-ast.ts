export type CompareOp = 'eq' | 'ne' | 'co' | 'sw' | 'ew' | 'gt' | 'lt' | 'ge' | 'le';
export type CompValue = string | number | boolean | null;

/** An attribute reference: optional schema URN, attribute, optional sub-attribute. */
export interface AttrRef {
  uri?: string;
  attr: string;
  sub?: string;
}

export type FilterNode =
  | { kind: 'compare'; path: AttrRef; op: CompareOp; value: CompValue; quoted: boolean }
  | { kind: 'present'; path: AttrRef }
  | { kind: 'and' | 'or'; left: FilterNode; right: FilterNode }
  | { kind: 'not'; expr: FilterNode }
  | { kind: 'valuePath'; path: AttrRef; filter: FilterNode };
