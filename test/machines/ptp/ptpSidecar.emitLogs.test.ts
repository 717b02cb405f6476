// The sidecar asks for linuxptp-daemon's emit-logs on every accepted connection (named action
// requestLogsForConnection, guard emitLogsConfigured), in every state, as the reference does; the composition
// coalesces the calls (test/io/ptp/aliases.test.ts).
import { describe, expect, it } from 'vitest';
import { createActor, fromPromise } from 'xstate';
import { ptpSidecarMachine, type SidecarGeneration } from '../../../src/machines/ptp/ptpSidecar.js';

function run(emitLogs: boolean) {
  const requested: number[] = [];
  const machine = ptpSidecarMachine.provide({
    actors: {
      // Stays loading: the handler is the machine's, not a state's.
      loadGeneration: fromPromise<SidecarGeneration, { load: number }>(() => new Promise(() => {})),
    },
    actions: {
      requestLogsForConnection: ({ event }) => {
        if (event.type === 'socket.connected') requested.push(event.connId);
      },
    },
  });
  const actor = createActor(machine, {
    input: { queueMaxBytes: 1_048_576, restartMode: 'inProcess', emitLogs },
  }).start();
  return { actor, requested };
}

describe('ptpSidecar: emit-logs on every accepted connection', () => {
  it('requests emit-logs once per accepted connection when emit-logs is configured', () => {
    const { actor, requested } = run(true);
    actor.send({ type: 'socket.connected', connId: 1 });
    actor.send({ type: 'socket.disconnected', connId: 1 });
    actor.send({ type: 'socket.connected', connId: 2 });
    expect(requested).toEqual([1, 2]);
    expect(actor.getSnapshot().value).toBe('loading');
    actor.stop();
  });

  it('makes no request without an emit-logs URL', () => {
    const { actor, requested } = run(false);
    actor.send({ type: 'socket.connected', connId: 1 });
    expect(requested).toEqual([]);
    actor.stop();
  });
});
