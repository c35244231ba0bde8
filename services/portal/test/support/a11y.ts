// Accessibility checks for the browser journeys: axe-core run inside the page under test.
// The portal's CSP allows no script at all, so axe is evaluated over the DevTools protocol
// (page.evaluate), which the page's CSP does not govern; nothing is added to the page's HTML.
import { readFileSync } from 'node:fs';
import type { Page } from 'playwright-core';

const AXE_SOURCE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

/** WCAG 2.0 and 2.1, levels A and AA, plus axe's best practices (landmarks, one h1, skip link target). */
export const AXE_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'];

export interface A11yViolation {
  id: string;
  impact: string | null;
  help: string;
  /** CSS selectors of the offending elements, with axe's summary of what is wrong with each. */
  nodes: { target: string; summary: string }[];
}

export interface A11yResults {
  violations: A11yViolation[];
  /** Checks axe could not decide (e.g. contrast over an image): for a person to review, not a failure. */
  incomplete: A11yViolation[];
}

/** Every axe violation on the page as it is now (all impacts), and what axe left undecided. */
export async function axeViolations(page: Page): Promise<A11yResults> {
  const loaded = await page.evaluate(() => 'axe' in globalThis);
  if (!loaded) await page.evaluate(AXE_SOURCE);
  return page.evaluate(async (tags) => {
    interface AxeNode {
      target: unknown[];
      failureSummary?: string;
    }
    interface AxeResult {
      id: string;
      impact?: string | null;
      help: string;
      nodes: AxeNode[];
    }
    const axe = (
      globalThis as unknown as {
        axe: {
          run(
            context: unknown,
            options: unknown,
          ): Promise<{ violations: AxeResult[]; incomplete: AxeResult[] }>;
        };
      }
    ).axe;
    const doc = (globalThis as unknown as { document: unknown }).document;
    const results = await axe.run(doc, {
      runOnly: { type: 'tag', values: tags },
      resultTypes: ['violations', 'incomplete'],
    });
    const summarize = (v: AxeResult) => ({
      id: v.id,
      impact: v.impact ?? null,
      help: v.help,
      nodes: v.nodes.map((n) => ({
        target: n.target.map(String).join(' '),
        summary: (n.failureSummary ?? '').replace(/\s+/g, ' ').trim(),
      })),
    });
    return {
      violations: results.violations.map(summarize),
      incomplete: results.incomplete.map(summarize),
    };
  }, AXE_TAGS);
}

/** The violations as a readable list for a failure message or a report file. */
export function describeViolations(
  pageName: string,
  violations: A11yViolation[],
  incomplete: A11yViolation[] = [],
): string {
  const review = incomplete.length
    ? ` (to review by hand: ${incomplete.map((v) => v.id).join(', ')})`
    : '';
  if (violations.length === 0) return `${pageName}: no violations${review}`;
  return [
    `${pageName}: ${violations.length} accessibility violation(s)${review}`,
    ...violations.flatMap((v) => [
      `- [${v.impact ?? 'unknown'}] ${v.id}: ${v.help}`,
      ...v.nodes.map((n) => `    ${n.target} — ${n.summary}`),
    ]),
  ].join('\n');
}
