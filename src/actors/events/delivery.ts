// The delivery machine's `post` actor: one JSON POST with CEP's 2 s timeout (configurable).
import { fromPromise } from 'xstate';
import { postJson } from '../../io/events/httpPost.js';
import type { PostResult } from '../../machines/events/delivery.js';

export function createPostActor(timeoutMs: number) {
  return fromPromise<PostResult, { endpoint: string; body: string }>(({ input }) =>
    postJson(input.endpoint, input.body, timeoutMs),
  );
}
