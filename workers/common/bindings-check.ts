import type { CoordinatorBindings } from './env';

// The hand-written binding interfaces (env.ts, durable-objects.ts: typed queues, the Durable
// Objects' RPC interfaces) checked at compile time against the generated ones
// (worker-configuration.d.ts, `npm run cf-typegen`, itself checked by `npm test`): every binding
// they require is configured in a wrangler.toml, and every configured binding they declare can be
// used as the type they give it. A binding renamed or removed in a wrangler.toml fails typecheck.

type RequiredKeys<T> = { [K in keyof T]-?: object extends Pick<T, K> ? never : K }[keyof T];
type Generated = Cloudflare.Env;

/** Required bindings no wrangler.toml configures. */
type Unconfigured = Exclude<RequiredKeys<CoordinatorBindings>, keyof Generated>;
/**
 * Configured bindings whose generated type cannot stand for the hand-written one. (Durable Object
 * namespaces: the generated type merges the gateway's untyped view with the coordinator's; that
 * each class has its RPC interface is checked where it `implements` it.)
 */
type Mistyped = {
  [K in keyof Generated & keyof CoordinatorBindings]: Generated[K] extends DurableObjectNamespace<infer _>
    ? never
    : Generated[K] extends NonNullable<CoordinatorBindings[K]>
      ? never
      : K;
}[keyof Generated & keyof CoordinatorBindings];

export const bindingsMatchGenerated: [Unconfigured, Mistyped] extends [never, never] ? true : false = true;
