import { failpoints, isFailpointName, type FailpointName } from '@crucible/contracts';
import { ConfigError } from './env.js';

/** Armed failpoints: name → probability of firing per evaluation (0..1). */
export type FailpointSettings = Readonly<Partial<Record<FailpointName, number>>>;

let armed: FailpointSettings = {};

/**
 * Parses `CRUCIBLE_FAILPOINTS` (`name=probability,name=probability`; a bare name means 1).
 * Unknown names and probabilities outside 0..1 throw a `ConfigError` naming them and the
 * known failpoints.
 *
 * @example
 * parseFailpoints('tasks.list.unscoped=0.02'); // { 'tasks.list.unscoped': 0.02 }
 */
export function parseFailpoints(spec: string | undefined): FailpointSettings {
  const out: Partial<Record<FailpointName, number>> = {};
  for (const part of (spec ?? '').split(',').map((p) => p.trim()).filter(Boolean)) {
    const [name = '', value] = part.split('=', 2).map((s) => s.trim());
    if (!isFailpointName(name)) {
      throw new ConfigError(`CRUCIBLE_FAILPOINTS: unknown failpoint "${name}" (known: ${Object.keys(failpoints).join(', ')})`, ['CRUCIBLE_FAILPOINTS']);
    }
    const p = value === undefined ? 1 : Number(value);
    if (!Number.isFinite(p) || p < 0 || p > 1) throw new ConfigError(`CRUCIBLE_FAILPOINTS: ${name} needs a probability from 0 to 1, not "${value}"`, ['CRUCIBLE_FAILPOINTS']);
    out[name] = p;
  }
  return Object.freeze(out);
}

/** Arms the failpoints of this process (the service does it once at start from its config). */
export function armFailpoints(settings: FailpointSettings): void {
  armed = settings;
}

/** The failpoints armed in this process (for logs and `/health`). */
export function armedFailpoints(): FailpointSettings {
  return armed;
}

/**
 * Whether the named failpoint fires now. Unarmed (always, in production) it is one property
 * lookup that returns false.
 *
 * @example
 * if (failpoint('tasks.list.unscoped')) query = query.clearWhere(); // the planted defect
 */
export function failpoint(name: FailpointName): boolean {
  const p = armed[name];
  return p !== undefined && (p >= 1 || Math.random() < p);
}
