// Fans the service's change notices out to every open SSE stream, and closes them all on shutdown
// (an open EventSource would otherwise keep the HTTP server from closing).
import type { FleetEvent, FleetService } from './service.ts';

type Client = { send: (event: FleetEvent) => void; close: () => void };

export class EventHub {
  private readonly clients = new Set<Client>();
  private readonly unsubscribe: () => void;
  private closed = false;

  constructor(service: FleetService) {
    this.unsubscribe = service.subscribe((event) => {
      for (const c of this.clients) c.send(event);
    });
  }

  get size(): number {
    return this.clients.size;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Registers a stream; returns the function that removes it. */
  add(client: Client): () => void {
    if (this.closed) {
      client.close();
      return () => {};
    }
    this.clients.add(client);
    return () => this.clients.delete(client);
  }

  /** Pushes a server-made notice (e.g. a refresh started) to every client. */
  broadcast(event: FleetEvent): void {
    for (const c of this.clients) c.send(event);
  }

  close(): void {
    this.closed = true;
    this.unsubscribe();
    for (const c of this.clients) c.close();
    this.clients.clear();
  }
}
