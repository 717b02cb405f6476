// A redis-server of one test's own on a Unix socket, for tests that kill Redis and bring a fresh (empty) one back on
// the same path. The shared test Redis (test/setup/redis.ts) must never be killed.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { Redis } from 'ioredis';

export class PrivateRedis {
  private server: ChildProcess | undefined;
  private clients: Redis[] = [];

  constructor(readonly socket: string) {}

  /** Starts a fresh server (no persistence) and waits, bounded, for its socket. */
  async start(): Promise<void> {
    rmSync(this.socket, { force: true });
    this.server = spawn(
      'redis-server',
      ['--port', '0', '--unixsocket', this.socket, '--save', '', '--appendonly', 'no'],
      { stdio: 'ignore' },
    );
    // Bounded wait (expect.poll is not available in hooks).
    for (let i = 0; i < 1_000 && !existsSync(this.socket); i++) await new Promise((r) => setTimeout(r, 10));
    if (!existsSync(this.socket)) throw new Error('private redis-server did not create its socket');
  }

  /** A client of database `db` on this server (one retry per request); disconnected by `disconnect()` and `kill()`. */
  client(db: number): Redis {
    const c = new Redis({ path: this.socket, db, maxRetriesPerRequest: 1 });
    this.clients.push(c);
    return c;
  }

  /** Disconnects every client made by `client()`. */
  disconnect(): void {
    for (const c of this.clients) c.disconnect();
    this.clients = [];
  }

  /** Disconnects the clients, SIGKILLs the server (if it runs) and removes its socket file. */
  async kill(): Promise<void> {
    this.disconnect();
    const s = this.server;
    this.server = undefined;
    if (s && s.exitCode === null && s.signalCode === null) {
      await new Promise<void>((res) => {
        s.once('exit', () => res());
        s.kill('SIGKILL');
      });
    }
    rmSync(this.socket, { force: true });
  }
}
