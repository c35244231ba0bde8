import { z } from 'zod';

/** How a development-only variable is recognised and why it must not reach production. */
export interface DevOnlyRule {
  /** Why the switch exists, said in the refusal so an operator knows what to change instead. */
  why: string;
  /** Whether the parsed value turns the development behaviour on; default: any truthy value. */
  enabled?: (value: unknown) => boolean;
}

/**
 * Every variable marked with `devOnly()` lands here: loadConfig refuses it in production and the
 * cross-service test enumerates the registry, so a new switch cannot skip the rule.
 */
export const devOnlyRegistry = z.registry<DevOnlyRule>();

/** Marks a variable's schema as a development-only switch (refused when NODE_ENV=production). */
export function devOnly<T extends z.ZodType>(schema: T, rule: DevOnlyRule): T {
  devOnlyRegistry.add(schema, rule);
  return schema;
}

/** The development-only variables of a config object schema, by name. */
export function devOnlyVariables(schema: z.ZodObject): Map<string, DevOnlyRule> {
  const found = new Map<string, DevOnlyRule>();
  for (const [name, field] of Object.entries(schema.shape)) {
    const rule = devOnlyRegistry.get(field as z.ZodType);
    if (rule) found.set(name, rule);
  }
  return found;
}

/** The refusals for a parsed config: one line per development-only switch that is on in production. */
export function devOnlyProblems(schema: z.ZodObject, parsed: Record<string, unknown>): string[] {
  if (parsed.NODE_ENV !== 'production') return [];
  const problems: string[] = [];
  for (const [name, rule] of devOnlyVariables(schema)) {
    const on = rule.enabled ? rule.enabled(parsed[name]) : Boolean(parsed[name]);
    if (on)
      problems.push(
        `${name}: is development-only (${rule.why}) and refused when NODE_ENV=production`,
      );
  }
  return problems;
}
