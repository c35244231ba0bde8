import { Inject, Injectable, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { PORTAL_LOG, type Logger } from '../log';
import { SessionStore } from './session-store';

const PURGE_EVERY_MS = 10 * 60 * 1000;

/** Deletes expired session rows now and then (any replica may; it is idempotent). */
@Injectable()
export class SessionPurger implements OnModuleInit, OnModuleDestroy {
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly store: SessionStore,
    @Inject(PORTAL_LOG) private readonly log: Logger,
  ) {}

  onModuleInit(): void {
    this.timer = setInterval(() => {
      this.store.purgeExpired().then(
        (n) => n && this.log.info({ purged: n }, 'expired sessions purged'),
        (e: unknown) => this.log.warn({ err: e }, 'session purge failed'),
      );
    }, PURGE_EVERY_MS);
    this.timer.unref();
  }

  onModuleDestroy(): void {
    clearInterval(this.timer);
  }
}
