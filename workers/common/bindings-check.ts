import type { CoordinatorBindings } from './env';

// The hand-written binding interfaces (env.ts, durable-objects.ts: typed queues, the Durable
// Objects' RPC interfaces; the gateway's in gateway/src/bindings-check.ts) checked at compile time
// against the generated ones (worker-configuration.d.ts, `npm run cf-typegen`, itself checked by
// `npm test`): every binding they require is configured in a wrangler.toml, and every configured
// binding they declare can be used as the type they give it. A binding renamed or removed in a
// wrangler.toml fails typecheck.

type RequiredKeys<T> = { [K in keyof T]-?: object extends Pick<T, K> ? never : K }[keyof T];
type Generated = Cloudflare.Env;

/** Required bindings no wrangler.toml configures. */
type Unconfigured<B> = Exclude<RequiredKeys<B>, keyof Generated>;
/**
 * Configured bindings whose generated type cannot stand for the hand-written one. (Durable Object
 * namespaces: the generated type merges the gateway's untyped view with the coordinator's; that
 * each class has its RPC interface is checked where it `implements` it.)
 */
type Mistyped<B> = {
  [K in keyof Generated & keyof B]: Generated[K] extends DurableObjectNamespace<infer _>
    ? never
    : Generated[K] extends NonNullable<B[K]>
      ? never
      : K;
}[keyof Generated & keyof B];

/** `true` when `B` agrees with the generated bindings; otherwise the offending names, as a type error. */
export type MatchesGenerated<B> = [Unconfigured<B>, Mistyped<B>] extends [never, never]
  ? true
  : { unconfigured: Unconfigured<B>; mistyped: Mistyped<B> };

export const bindingsMatchGenerated: MatchesGenerated<CoordinatorBindings> = true;
