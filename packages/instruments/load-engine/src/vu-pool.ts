import type { Vu } from './scenario-run.js';

/** Free-list of VUs for open models: pre-allocated, grown up to max. */
export class VuPool {
  readonly #free: Vu[] = [];
  #allocated = 0;
  readonly #max: number;
  readonly #make: (id: number) => Vu;
  /** Every VU the pool made (to close their sockets at the end). */
  readonly all: Vu[] = [];

  constructor(pre: number, max: number, make: (id: number) => Vu) {
    this.#max = max;
    this.#make = make;
    for (let i = 0; i < pre; i++) this.#free.push(this.#grow());
  }

  #grow(): Vu {
    const vu = this.#make(this.#allocated++);
    this.all.push(vu);
    return vu;
  }

  /** A free VU, a new one while under max, or undefined when all max are busy. */
  acquire(): Vu | undefined {
    const vu = this.#free.pop() ?? (this.#allocated < this.#max ? this.#grow() : undefined);
    if (vu) vu.busy = true;
    return vu;
  }

  /** Returns a VU to the free list. */
  release(vu: Vu): void {
    vu.busy = false;
    this.#free.push(vu);
  }
}
