// stateFile on a SimulatedClock with an in-memory store standing for the two files (current, backup): the recovery
// chain, stale cleanup, future version, debounced saves, rotation over several cycles, save failures, final save.
import { describe, expect, it } from 'vitest';
import { createActor, fromPromise, SimulatedClock } from 'xstate';
import {
  stateFileMachine,
  type CleanupOutput,
  type LoadOutput,
  type PortMap,
  type PortRecord,
  type StateFileSlot,
} from '../../../src/machines/warmRestart/stateFile.js';
import { get } from '../../../src/machines/portsync/portTable.js';

const flush = async () => {
  for (let i = 0; i < 5; i += 1) await new Promise((r) => setTimeout(r, 0));
};

type Slot = { savedAt: number; ports: PortMap } | 'corrupt' | 'future' | undefined;

const dayMs = 86_400_000;

function port(name: string, mtu = 9100): PortRecord {
  return { name, adminState: 'up', operState: 'up', flags: 0x41, mtu, ifindex: 10 };
}

function start(
  fs: { current?: Slot; backup?: Slot; writable?: boolean; dirMissing?: boolean; holdSaves?: boolean },
  now = 100 * dayMs,
) {
  const disk = { current: fs.current, backup: fs.backup, writable: fs.writable ?? true, saves: 0 };
  const log: string[] = [];
  const emitted: unknown[] = [];
  const rec =
    (name: string) =>
    (_: unknown, params?: unknown): void => {
      log.push(params === undefined ? name : `${name} ${JSON.stringify(params)}`);
    };
  const machine = stateFileMachine.provide({
    actors: {
      cleanupStale: fromPromise<CleanupOutput>(async () => {
        const deleted: StateFileSlot[] = [];
        for (const slot of ['current', 'backup'] as const) {
          const f = disk[slot];
          if (typeof f === 'object' && now - f.savedAt > 7 * dayMs) {
            disk[slot] = undefined;
            deleted.push(slot);
          }
        }
        return { deleted };
      }),
      loadState: fromPromise<LoadOutput, { slot: StateFileSlot }>(async ({ input }) => {
        const f = disk[input.slot];
        if (fs.dirMissing || f === undefined) throw Object.assign(new Error('missing'), { reason: 'missing' });
        if (f === 'corrupt') throw Object.assign(new Error('checksum mismatch'), { reason: 'checksum' });
        if (f === 'future') {
          throw Object.assign(new Error('unsupported version 9'), { reason: 'version', isFutureVersion: true });
        }
        return structuredClone(f);
      }),
      saveState: fromPromise<void, { ports: PortMap; rotate: boolean }>(async ({ input }) => {
        if (!disk.writable) throw new Error('EACCES: permission denied');
        if (input.rotate && disk.current !== undefined) disk.backup = disk.current;
        disk.current = { savedAt: now, ports: structuredClone(input.ports) };
        disk.saves += 1;
      }),
    },
    actions: {
      countLoadFailure: rec('countLoadFailure'),
      countRecovery: rec('countRecovery'),
      countSaveFailure: rec('countSaveFailure'),
      countSaved: rec('countSaved'),
      logCleanup: rec('logCleanup'),
      logFutureVersion: rec('logFutureVersion'),
    },
  });
  const clock = new SimulatedClock();
  const actor = createActor(machine, {
    clock,
    input: { debounceMs: 200, retryMs: 5000, ...(fs.holdSaves ? { holdSaves: true } : {}) },
  });
  actor.on('*', (e) => emitted.push(e));
  actor.start();
  const count = (prefix: string) => log.filter((l) => l.startsWith(prefix)).length;
  return { actor, clock, disk, log, emitted, count };
}

const good = (savedAt: number, ...names: string[]): Slot => ({
  savedAt,
  ports: Object.fromEntries(names.map((n) => [n, port(n)])),
});

describe('stateFile machine: loading', () => {
  it('loads a valid fresh current file and reports it', async () => {
    const s = start({ current: good(99 * dayMs, 'Ethernet0', 'Ethernet4') });
    await flush();
    expect(s.actor.getSnapshot().value).toBe('ready');
    expect(s.emitted).toEqual([
      {
        type: 'stateFile.loaded',
        slot: 'current',
        savedAt: 99 * dayMs,
        ports: (good(0, 'Ethernet0', 'Ethernet4') as { ports: PortMap }).ports,
      },
    ]);
    expect(s.count('countLoadFailure')).toBe(0);
  });

  it('missing file (first start, or a missing directory): cold, and no failure counted', async () => {
    const s = start({ dirMissing: true });
    await flush();
    expect(s.actor.getSnapshot().value).toBe('ready');
    expect(s.emitted).toEqual([{ type: 'stateFile.cold', reason: 'missing' }]);
    expect(s.count('countLoadFailure')).toBe(0);
  });

  it('corrupted current → recovered from the backup, counted; the first save does not rotate the bad file over it', async () => {
    const s = start({ current: 'corrupt', backup: good(98 * dayMs, 'Ethernet0') });
    await flush();
    expect(s.emitted).toEqual([
      { type: 'stateFile.loaded', slot: 'backup', savedAt: 98 * dayMs, ports: { Ethernet0: port('Ethernet0') } },
    ]);
    expect(s.log).toContain(
      'countLoadFailure {"slot":"current","reason":"checksum","message":"checksum mismatch","isFutureVersion":false}',
    );
    expect(s.count('countRecovery')).toBe(1);
    s.actor.send({ type: 'stateFile.upsert', port: port('Ethernet4') });
    s.clock.increment(200);
    await flush();
    expect(s.disk.backup).toEqual(good(98 * dayMs, 'Ethernet0'));
    expect(s.disk.current).toEqual({
      savedAt: 100 * dayMs,
      ports: { Ethernet0: port('Ethernet0'), Ethernet4: port('Ethernet4') },
    });
  });

  it('corrupted current and backup → cold, both failures counted', async () => {
    const s = start({ current: 'corrupt', backup: 'corrupt' });
    await flush();
    expect(s.emitted).toEqual([{ type: 'stateFile.cold', reason: 'corrupt' }]);
    expect(s.count('countLoadFailure')).toBe(2);
    expect(s.count('countRecovery')).toBe(0);
  });

  it('corrupted current and no backup → cold (corrupt)', async () => {
    const s = start({ current: 'corrupt' });
    await flush();
    expect(s.emitted).toEqual([{ type: 'stateFile.cold', reason: 'corrupt' }]);
    expect(s.count('countLoadFailure')).toBe(1);
  });

  it('stale file → deleted → cold', async () => {
    const s = start({ current: good(90 * dayMs, 'Ethernet0'), backup: good(89 * dayMs, 'Ethernet0') });
    await flush();
    expect(s.emitted).toEqual([{ type: 'stateFile.cold', reason: 'stale' }]);
    expect(s.disk.current).toBeUndefined();
    expect(s.disk.backup).toBeUndefined();
    expect(s.count('logCleanup')).toBe(1);
  });

  it('future version → cold with a log line, without trying the backup', async () => {
    const s = start({ current: 'future', backup: good(99 * dayMs, 'Ethernet0') });
    await flush();
    expect(s.emitted).toEqual([{ type: 'stateFile.cold', reason: 'futureVersion' }]);
    expect(s.log).toContain('logFutureVersion {"message":"unsupported version 9"}');
    expect(s.count('countRecovery')).toBe(0);
  });
});

describe('stateFile machine: saving', () => {
  it('debounces: a storm of changes within the window is one save', async () => {
    const s = start({});
    await flush();
    for (let i = 0; i < 50; i += 1) s.actor.send({ type: 'stateFile.upsert', port: port('Ethernet0', 1000 + i) });
    s.clock.increment(199);
    await flush();
    expect(s.disk.saves).toBe(0);
    s.clock.increment(1);
    await flush();
    expect(s.disk.saves).toBe(1);
    expect(s.disk.current).toEqual({ savedAt: 100 * dayMs, ports: { Ethernet0: port('Ethernet0', 1049) } });
    expect(s.actor.getSnapshot().value).toBe('ready');
  });

  it('a replace keeps the record object of every unchanged port (the encoder reuses its text) and saves the new set', async () => {
    const s = start({ current: good(100 * dayMs - 1000, 'Ethernet0', 'Ethernet4', 'Ethernet8') });
    const machine = s.actor;
    await flush();
    const before = machine.getSnapshot().context.ports;
    const kept = get(before, 'Ethernet0')!;
    // A fresh object with the same values, one with another MTU, a new port; Ethernet8 is gone.
    machine.send({
      type: 'stateFile.replace',
      ports: { Ethernet0: { ...kept }, Ethernet4: port('Ethernet4', 1500), Ethernet12: port('Ethernet12') },
    });
    const after = machine.getSnapshot().context.ports;
    expect(get(after, 'Ethernet0')).toBe(kept);
    expect(get(after, 'Ethernet4')).toEqual(port('Ethernet4', 1500));
    expect(get(after, 'Ethernet8')).toBeUndefined();
    s.clock.increment(200);
    await flush();
    expect((s.disk.current as { ports: PortMap }).ports).toEqual({
      Ethernet0: port('Ethernet0'),
      Ethernet4: port('Ethernet4', 1500),
      Ethernet12: port('Ethernet12'),
    });
  });

  it('rotation over several cycles: backup always holds the previous save', async () => {
    const s = start({});
    await flush();
    for (let cycle = 1; cycle <= 4; cycle += 1) {
      s.actor.send({ type: 'stateFile.upsert', port: port('Ethernet0', cycle) });
      s.clock.increment(200);
      await flush();
      expect(s.disk.saves).toBe(cycle);
      expect((s.disk.current as { ports: PortMap }).ports.Ethernet0?.mtu).toBe(cycle);
      if (cycle > 1) expect((s.disk.backup as { ports: PortMap }).ports.Ethernet0?.mtu).toBe(cycle - 1);
    }
    s.actor.send({ type: 'stateFile.remove', name: 'Ethernet0' });
    s.clock.increment(200);
    await flush();
    expect(s.disk.current).toEqual({ savedAt: 100 * dayMs, ports: {} });
  });

  it('an unwritable directory: save failures counted, the machine keeps running and retries later', async () => {
    const s = start({ writable: false });
    await flush();
    s.actor.send({ type: 'stateFile.upsert', port: port('Ethernet0') });
    s.clock.increment(200);
    await flush();
    expect(s.actor.getSnapshot().value).toBe('saveFailed');
    expect(s.count('countSaveFailure')).toBe(1);
    s.clock.increment(5000);
    await flush();
    expect(s.count('countSaveFailure')).toBe(2);
    s.disk.writable = true;
    s.actor.send({ type: 'stateFile.upsert', port: port('Ethernet4') });
    s.clock.increment(5000);
    await flush();
    expect(s.actor.getSnapshot().value).toBe('ready');
    expect(Object.keys((s.disk.current as { ports: PortMap }).ports).sort()).toEqual(['Ethernet0', 'Ethernet4']);
    expect(s.actor.getSnapshot().status).toBe('active');
  });

  it('final save on shutdown, then a final state', async () => {
    const s = start({ current: good(99 * dayMs, 'Ethernet0') });
    await flush();
    s.actor.send({ type: 'stateFile.upsert', port: port('Ethernet8') });
    s.actor.send({ type: 'shutdown' });
    await flush();
    expect(s.actor.getSnapshot().status).toBe('done');
    expect(s.actor.getSnapshot().output).toEqual({ saves: 1, saveFailures: 0 });
    expect(Object.keys((s.disk.current as { ports: PortMap }).ports).sort()).toEqual(['Ethernet0', 'Ethernet8']);
  });

  it('a failing final save is counted and still reaches the final state', async () => {
    const s = start({ writable: false });
    await flush();
    s.actor.send({ type: 'shutdown' });
    await flush();
    expect(s.actor.getSnapshot().status).toBe('done');
    expect(s.count('countSaveFailure')).toBe(1);
  });

  it('shutdown during a save waits for it, then saves the latest ports', async () => {
    const s = start({});
    await flush();
    s.actor.send({ type: 'stateFile.upsert', port: port('Ethernet0') });
    s.clock.increment(200);
    expect(s.actor.getSnapshot().value).toBe('saving');
    s.actor.send({ type: 'stateFile.upsert', port: port('Ethernet4') });
    s.actor.send({ type: 'shutdown' });
    await flush();
    expect(s.actor.getSnapshot().status).toBe('done');
    expect(s.disk.saves).toBe(2);
    expect(Object.keys((s.disk.current as { ports: PortMap }).ports).sort()).toEqual(['Ethernet0', 'Ethernet4']);
  });

  it('changes during the final save are dropped, not queued: the final save writes the ports known at shutdown', async () => {
    const s = start({});
    await flush();
    s.actor.send({ type: 'stateFile.upsert', port: port('Ethernet0') });
    s.clock.increment(200);
    await flush();
    expect(s.actor.getSnapshot().value).toBe('ready');
    s.actor.send({ type: 'shutdown' });
    expect(s.actor.getSnapshot().value).toBe('finalSaving');
    s.actor.send({ type: 'stateFile.upsert', port: port('Ethernet8') });
    s.actor.send({ type: 'stateFile.remove', name: 'Ethernet0' });
    expect(s.actor.getSnapshot().context.early).toEqual([]);
    await flush();
    expect(s.actor.getSnapshot().status).toBe('done');
    expect(s.disk.saves).toBe(2);
    expect(Object.keys((s.disk.current as { ports: PortMap }).ports)).toEqual(['Ethernet0']);
  });

  it('changes that arrive while the file loads are applied over it and saved', async () => {
    const s = start({ current: good(99 * dayMs, 'Ethernet0', 'Ethernet4') });
    s.actor.send({ type: 'stateFile.upsert', port: port('Ethernet0', 1500) });
    s.actor.send({ type: 'stateFile.remove', name: 'Ethernet4' });
    await flush();
    expect(s.emitted[0]).toMatchObject({ type: 'stateFile.loaded', slot: 'current' });
    expect(Object.keys((s.emitted[0] as { ports: PortMap }).ports)).toEqual(['Ethernet0', 'Ethernet4']);
    expect(s.actor.getSnapshot().value).toBe('dirty');
    s.clock.increment(200);
    await flush();
    expect(s.disk.current).toEqual({ savedAt: 100 * dayMs, ports: { Ethernet0: port('Ethernet0', 1500) } });
  });

  it('shutdown before the file was read saves nothing over it', async () => {
    const s = start({ current: good(99 * dayMs, 'Ethernet0') });
    s.actor.send({ type: 'shutdown' });
    await flush();
    expect(s.actor.getSnapshot().status).toBe('done');
    expect(s.disk.saves).toBe(0);
  });
  describe('holdSaves', () => {
    const file = { savedAt: 100 * dayMs, ports: { Ethernet0: port('Ethernet0') } };

    it('applies changes but saves nothing before stateFile.release; then one throttled save of them', async () => {
      const { actor, clock, disk } = start({ current: file, holdSaves: true });
      await flush();
      expect(actor.getSnapshot().value).toBe('holding');
      actor.send({ type: 'stateFile.upsert', port: port('Ethernet4') });
      actor.send({ type: 'stateFile.replace', ports: { Ethernet4: port('Ethernet4', 1500) } });
      expect(actor.getSnapshot().value).toBe('holdingChanges');
      clock.increment(60_000);
      await flush();
      expect(disk.saves).toBe(0);
      actor.send({ type: 'stateFile.release' });
      expect(actor.getSnapshot().value).toBe('dirty');
      clock.increment(200);
      await flush();
      expect(disk.saves).toBe(1);
      expect(disk.current).toEqual({ savedAt: 100 * dayMs, ports: { Ethernet4: port('Ethernet4', 1500) } });
    });

    it('a release without changes saves nothing; a release before the file is read holds nothing', async () => {
      const held = start({ current: file, holdSaves: true });
      await flush();
      held.actor.send({ type: 'stateFile.release' });
      expect(held.actor.getSnapshot().value).toBe('ready');
      held.clock.increment(1_000);
      await flush();
      expect(held.disk.saves).toBe(0);

      const early = start({ current: file, holdSaves: true });
      early.actor.send({ type: 'stateFile.release' });
      early.actor.send({ type: 'stateFile.upsert', port: port('Ethernet8') });
      await flush();
      expect(early.actor.getSnapshot().value).toBe('dirty');
      early.clock.increment(200);
      await flush();
      expect(early.disk.saves).toBe(1);
    });

    it('shutdown while held writes the final save with the held changes', async () => {
      const { actor, disk } = start({ current: file, holdSaves: true });
      await flush();
      actor.send({ type: 'stateFile.remove', name: 'Ethernet0' });
      actor.send({ type: 'shutdown' });
      await flush();
      expect(disk.saves).toBe(1);
      expect(disk.current).toEqual({ savedAt: 100 * dayMs, ports: {} });
      expect(actor.getSnapshot().status).toBe('done');
    });
  });
});
