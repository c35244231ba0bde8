import { Injectable } from '@nestjs/common';

export type ReadinessCheck = () => Promise<void>;

/** Named dependency checks behind /readyz; any module can register one. */
@Injectable()
export class ReadinessRegistry {
  private readonly checks = new Map<string, ReadinessCheck>();
  private draining = false;

  register(name: string, check: ReadinessCheck): void {
    this.checks.set(name, check);
  }

  /** Once shutdown starts, report not-ready so load balancers stop sending traffic. */
  markDraining(): void {
    this.draining = true;
  }

  async run(timeoutMs = 2000): Promise<{ ready: boolean; checks: Record<string, string> }> {
    const results: Record<string, string> = {};
    if (this.draining) results.shutdown = 'draining';
    await Promise.all(
      [...this.checks].map(async ([name, check]) => {
        try {
          await Promise.race([
            check(),
            new Promise((_, reject) =>
              setTimeout(() => reject(new Error('timed out')), timeoutMs).unref(),
            ),
          ]);
          results[name] = 'ok';
        } catch (e) {
          results[name] = e instanceof Error ? e.message : 'failed';
        }
      }),
    );
    return { ready: Object.values(results).every((v) => v === 'ok'), checks: results };
  }
}
