// Test support of the task-api stress planted-defect files: the replica a case speaks to.
import type { Sut } from '@crucible/testbed';
import { Replicas } from './context.js';

/** The replica a case speaks to: the clean first one, or one more started with `failpoints` armed. */
export interface CaseSystem {
  readonly replicas: Replicas;
  start(): Promise<void>;
  close(): Promise<void>;
}

/**
 * A {@link CaseSystem} on the task-api of the system `sutOf` returns when the case starts
 * (a getter: cases are declared before the file's `beforeAll` starts it); `failpoints`
 * undefined is the clean first replica.
 */
export function caseSystem(sutOf: () => Sut, failpoints?: string): CaseSystem {
  let replicas: Replicas | undefined;
  return {
    get replicas() {
      if (!replicas) throw new Error('the replica is not started');
      return replicas;
    },
    async start() {
      const sut = sutOf();
      const url = failpoints ? (await sut.startReplica('task-api', { CRUCIBLE_FAILPOINTS: failpoints })).url : sut.url('task-api');
      replicas = new Replicas([url], 256);
    },
    close: async () => replicas?.close(),
  };
}
