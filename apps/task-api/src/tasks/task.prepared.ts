import type { Compilable, CompiledQuery, Kysely } from 'kysely';

/**
 * A statement compiled once per database handle and shape, then run with each call's
 * values: `build` is called once per shape with marker values (one per slot: unique strings, numbers or
 * arrays, compared by identity), and a run swaps the markers in the compiled parameters for
 * the call's values. The SQL is exactly what the repository's builder renders, so it cannot
 * drift from it (or from EXPLAIN); only the per-request compile goes, a tree walk and a
 * freeze of every node that cost a hot route about 20 µs of its CPU.
 *
 * @example
 * const next = prepared((db: Kysely<Database>, status, [project]) => nextTaskQuery(db, { projectId: project }, status as TaskStatus), ['\u0000project'] as const);
 * const rows = (await db.executeQuery(next.compile(db, 'pending', [scope.projectId]))).rows;
 */
export function prepared<Db, M extends readonly unknown[], R>(
  build: (db: Kysely<Db>, shape: string, markers: M) => Compilable<R>,
  markers: M,
  /** Slots some shapes leave out (an optional column); every other marker must be a parameter of every shape. */
  optional: readonly number[] = [],
) {
  const compiled = new WeakMap<Kysely<Db>, Map<string, { query: CompiledQuery<R>; slots: (number | undefined)[] }>>();
  return {
    /**
     * The statement for `values` (in the markers' order). `shape` names the builder's
     * variant (a few fixed names): what changes the SQL itself, such as an optional column.
     */
    compile(db: Kysely<Db>, shape: string, values: { readonly [K in keyof M]: unknown }): CompiledQuery<R> {
      let byShape = compiled.get(db);
      if (!byShape) compiled.set(db, (byShape = new Map()));
      let entry = byShape.get(shape);
      if (!entry) {
        const query = build(db, shape, markers).compile();
        // Per parameter: the slot whose marker it is, or undefined for a constant of the builder.
        const slots = query.parameters.map((p) => {
          const i = markers.indexOf(p);
          return i < 0 ? undefined : i;
        });
        const used = new Set(slots);
        markers.forEach((m, i) => {
          if (!used.has(i) && !optional.includes(i)) throw new Error(`prepared statement (${shape}): marker ${i} (${String(m)}) is not a parameter of the compiled query`);
        });
        entry = { query, slots };
        byShape.set(shape, entry);
      }
      const { query, slots } = entry;
      return { ...query, parameters: query.parameters.map((p, i) => (slots[i] === undefined ? p : values[slots[i] as number])) };
    },
  };
}
