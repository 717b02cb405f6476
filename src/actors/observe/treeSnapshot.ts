// The state of a running actor tree as plain JSON: systemId → state value of every machine actor that has one
// (actors that are not active show {status, value}). Used by trace recording and replay to compare runs.
import type { AnyActorRef } from 'xstate';

export type StateValueJson = string | { [k: string]: StateValueJson };
export type TreeSnapshot = Record<string, StateValueJson | { status: string; value: StateValueJson }>;

export function collectTreeSnapshot(ref: AnyActorRef, out: TreeSnapshot = {}): TreeSnapshot {
  const snap = ref.getSnapshot() as { value?: StateValueJson; status: string; children?: Record<string, AnyActorRef> };
  const systemId = (ref as { systemId?: string }).systemId;
  if (systemId && snap.value !== undefined)
    out[systemId] = snap.status === 'active' ? snap.value : { status: snap.status, value: snap.value };
  for (const child of Object.values(snap.children ?? {})) if (child) collectTreeSnapshot(child, out);
  return out;
}
