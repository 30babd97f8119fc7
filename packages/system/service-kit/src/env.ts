import { z } from 'zod';

/** The environment a configuration is read from (`process.env` or a test's record). */
export type Env = Readonly<Record<string, string | undefined>>;

/**
 * Start-up stopped because a variable is missing or malformed. The message names every
 * variable at fault; `variables` lists them.
 */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  readonly code = 'config_invalid' as const;
  /** The variables at fault, in schema order. */
  readonly variables: readonly string[];

  constructor(message: string, variables: readonly string[] = []) {
    super(message);
    this.variables = Object.freeze([...variables]);
  }
}

/**
 * A whole-number environment variable between `min` and `max`; the error names it.
 * @example envInt('DB_POOL_MAX', 1, 1000).default(10)
 */
export const envInt = (name: string, min: number, max: number) =>
  z
    .string()
    .regex(/^\d+$/, `${name} must be a whole number`)
    .transform(Number)
    .refine((n) => n >= min && n <= max, `${name} must be between ${min} and ${max}`);

/** The pino levels `LOG_LEVEL` accepts. */
export const logLevels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof logLevels)[number];

/** `LOG_LEVEL`: one of {@link logLevels}, `info` by default. */
export const envLogLevel = () => z.enum(logLevels).default('info');

/**
 * Reads the variables `schema` declares from `env`, once: the parsed values, frozen. A
 * variable set to the empty string counts as unset (so its default applies); variables the
 * schema does not name are ignored. Any missing or malformed variable throws one
 * {@link ConfigError} whose message names every variable at fault, prefixed with
 * `options.service` when given.
 *
 * @example
 * const env = readEnv(z.object({ PORT: envInt('PORT', 0, 65535).default(0), LOG_LEVEL: envLogLevel() }), process.env, { service: 'task-api' });
 * env.PORT; // number
 */
export function readEnv<S extends z.ZodObject>(schema: S, env: Env = process.env, options: { service?: string } = {}): Readonly<z.output<S>> {
  const set = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = schema.safeParse(set);
  if (parsed.success) return Object.freeze(parsed.data);
  const variables: string[] = [];
  const problems = parsed.error.issues.map((issue) => {
    const name = String(issue.path[0] ?? '');
    if (name && !variables.includes(name)) variables.push(name);
    // Messages written for a variable already name it (`PORT must be …`); zod's own do not.
    return !name || issue.message.includes(name) ? issue.message : `${name}: ${issue.message}`;
  });
  const prefix = options.service ? `${options.service}: ` : '';
  throw new ConfigError(`${prefix}invalid configuration: ${problems.join('; ')}`, variables);
}
