// At most one refresh of the whole fleet, and one per account, at a time: a second request joins
// the one in progress instead of probing upstream again (refresh tokens are single use, and
// Cloudflare counts requests per IP).
import type { Clock } from '../domain/time.ts';
import type { AccountView, FleetService, RefreshOutcome } from './service.ts';

export interface RefreshTicket {
  /** 'started' when this call began a refresh, 'joined' when one was already running. */
  status: 'started' | 'joined';
  startedAt: string;
  done: Promise<RefreshOutcome>;
}

export class RefreshGate {
  private all: RefreshTicket | null = null;
  private readonly one = new Map<string, Promise<AccountView>>();
  private readonly service: FleetService;
  private readonly clock: Clock;

  constructor(service: FleetService, clock: Clock) {
    this.service = service;
    this.clock = clock;
  }

  get running(): boolean {
    return this.all !== null;
  }

  refreshAll(): RefreshTicket {
    if (this.all) return { ...this.all, status: 'joined' };
    const startedAt = new Date(this.clock()).toISOString();
    const done = this.service.refreshAll().finally(() => {
      this.all = null;
    });
    // The caller may not await it (202 answers); a failure is reported through done, never unhandled.
    done.catch(() => {});
    const ticket: RefreshTicket = { status: 'started', startedAt, done };
    this.all = ticket;
    return ticket;
  }

  refreshAccount(id: string): Promise<AccountView> {
    const pending = this.one.get(id);
    if (pending) return pending;
    const p = this.service.refreshAccount(id).finally(() => this.one.delete(id));
    this.one.set(id, p);
    return p;
  }

  /** Resolves when every refresh in flight has settled (for a graceful shutdown). */
  async drain(): Promise<void> {
    await Promise.allSettled([this.all?.done, ...this.one.values()]);
  }
}
