import { Logger } from '@nestjs/common';

/** Runs a job every `ms` (not overlapping itself) until stopped; errors are logged, not fatal. */
export class Periodic {
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private stopped = true;

  constructor(
    private readonly name: string,
    private readonly ms: number,
    private readonly job: () => Promise<unknown>,
    private readonly log = new Logger(name),
  ) {}

  start(initialDelayMs = this.ms): void {
    this.stopped = false;
    this.timer = setTimeout(() => void this.tick(), initialDelayMs);
    this.timer.unref();
  }

  private async tick(): Promise<void> {
    this.running = this.job().then(
      () => undefined,
      (e: unknown) =>
        this.log.error(`${this.name} failed: ${e instanceof Error ? e.message : String(e)}`),
    );
    await this.running;
    if (!this.stopped) {
      this.timer = setTimeout(() => void this.tick(), this.ms);
      this.timer.unref();
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
  }
}
