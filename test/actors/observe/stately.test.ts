// The Stately inspector relay: 127.0.0.1 on a configurable port, Host checked, every live actor's registration sent
// to a browser that joins late, and a warning (not a crash, not silence) when the port is taken.
import { createServer } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createActor, fromCallback, setup } from 'xstate';
import { createStatelyInspector, type StatelyInspector } from '../../../src/actors/observe/inspector.js';
import { silentLogger, type Logger } from '../../../src/io/log.js';

const machine = setup({ actors: { child: fromCallback(() => () => {}) } }).createMachine({
  id: 'relayed',
  initial: 'a',
  invoke: { src: 'child', id: 'kid' },
  states: { a: { on: { GO: 'b' } }, b: {} },
});

let stately: StatelyInspector | undefined;
afterEach(async () => {
  await stately?.stop();
  stately = undefined;
});

function collect(url: string, host?: string): Promise<{ msgs: { type: string; sessionId?: string }[]; ws: WebSocket }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, host ? { headers: { host } } : {});
    const msgs: { type: string; sessionId?: string }[] = [];
    ws.on('message', (d) => msgs.push(JSON.parse(String(d)) as { type: string }));
    ws.on('open', () => setTimeout(() => resolve({ msgs, ws }), 150));
    ws.on('error', reject);
  });
}

describe('stately relay', () => {
  it('listens on 127.0.0.1 and sends a late browser every registration first', async () => {
    stately = await createStatelyInspector({ logger: silentLogger, port: 0 });
    const url = await stately.start();
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    const actor = createActor(machine, { inspect: stately.inspect }).start();
    actor.send({ type: 'GO' });
    // Many more messages than any recent-message buffer would keep: registrations must survive them.
    for (let i = 0; i < 1000; i++) actor.send({ type: 'NOISE' });
    const { msgs, ws } = await collect(url!.replace('http', 'ws'));
    const actors = msgs.filter((m) => m.type === '@xstate.actor');
    expect(actors.length).toBe(2); // the machine and its invoked child
    expect(msgs.slice(0, 2).map((m) => m.type)).toEqual(['@xstate.actor', '@xstate.actor']);
    const snap = msgs.find((m) => m.type === '@xstate.snapshot' && m.sessionId === actor.sessionId) as
      { snapshot: { value: unknown } } | undefined;
    expect(snap?.snapshot.value).toBe('b');
    const page = await fetch(url!);
    expect(await page.text()).toContain(`ws://127.0.0.1:${new URL(url!).port}/`);
    ws.close();
    actor.stop();
  });

  it('refuses a WebSocket or a page with a foreign Host', async () => {
    stately = await createStatelyInspector({ logger: silentLogger, port: 0 });
    const url = (await stately.start())!;
    await expect(collect(url.replace('http', 'ws'), 'evil.example')).rejects.toThrow(
      /401|403|Unexpected server response/,
    );
  });

  it('warns and stays off when the port is taken', async () => {
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', () => r()));
    const port = (blocker.address() as { port: number }).port;
    const warnings: unknown[] = [];
    const logger = {
      ...silentLogger,
      info: () => {},
      warn: (...a: unknown[]) => warnings.push(a),
    } as unknown as Logger;
    stately = await createStatelyInspector({ logger, port });
    expect(await stately.start()).toBeUndefined();
    expect(JSON.stringify(warnings)).toContain('cannot listen on 127.0.0.1');
    // inspecting still never throws
    const actor = createActor(machine, { inspect: stately.inspect }).start();
    actor.stop();
    blocker.close();
  });
});
