import {
  type FakeServer,
  PyFloat,
  type Route,
  mulberry32,
  pythonJson,
  startFastApiLike,
} from '../../cli/bench/fakes/fastapi-like';
import { scriptedWebShopGame } from './scripted-webshop-game';

/**
 * A fake AgentGym WebShop server with the real one's wire format (agentenv-webshop server.py,
 * environment.py, model.py): the key is `env_idx`; /create answers a bare random integer; /reset
 * answers `[observation, null]`; /step answers `{state, reward (a float), done, info: null}`;
 * an unknown env_idx is an unhandled KeyError (HTTP 500, text/plain), a missing field a 422;
 * /list_envs lists ids; /close (`{closed}`) exists only in `v2025`.
 */
export interface FakeWebShopOptions {
  version?: 'v2024' | 'v2025';
  /** Seed of the id generator (the real server seeds with the clock). */
  seed?: number;
}

export interface FakeWebShopServer extends FakeServer {
  envIds(): number[];
}

export async function startFakeWebShop(options: FakeWebShopOptions = {}): Promise<FakeWebShopServer> {
  const version = options.version ?? 'v2025';
  const random = mulberry32(options.seed ?? 1);
  const envs = new Map<number, ReturnType<typeof scriptedWebShopGame>>();
  const env = (id: unknown) => envs.get(id as number);

  const routes: Route[] = [
    { method: 'GET', path: '/', handle: () => ({ json: 'ok' }) },
    { method: 'GET', path: '/list_envs', handle: () => ({ json: [...envs.keys()] }) },
    {
      method: 'POST',
      path: '/create',
      handle() {
        let id: number;
        do id = Math.floor(random() * 48_950_077);
        while (envs.has(id));
        envs.set(id, scriptedWebShopGame(Math.floor(random() * 1000)));
        return { json: id };
      },
    },
    {
      method: 'POST',
      path: '/reset',
      body: { env_idx: { type: 'int' }, session_id: { type: 'int', default: null } },
      handle({ env_idx, session_id }) {
        const game = env(env_idx);
        if (!game) return { crash: true };
        game.reset((session_id as number | null) ?? Math.floor(random() * 1000));
        return { json: [game.observation(), null] };
      },
    },
    {
      method: 'POST',
      path: '/step',
      body: { env_idx: { type: 'int' }, action: { type: 'str' } },
      handle({ env_idx, action }) {
        const game = env(env_idx);
        if (!game) return { crash: true };
        const step = game.step(action as string);
        return {
          rawJson: pythonJson({
            state: step.state,
            reward: new PyFloat(step.reward),
            done: step.done,
            info: null,
          }),
        };
      },
    },
    ...(['observation', 'instruction_text', 'available_actions', 'state'] as const).map(
      (name): Route => ({
        method: 'GET',
        path: `/${name}`,
        query: { env_idx: { type: 'int' } },
        handle({ env_idx }) {
          const game = env(env_idx);
          if (!game) return { crash: true };
          if (name === 'observation') return { json: game.observation() };
          if (name === 'instruction_text') return { json: game.instruction() };
          if (name === 'available_actions') return { json: game.availableActions() };
          return { json: { url: 'http://127.0.0.1:3000/', html: '', instruction_text: game.instruction() } };
        },
      }),
    ),
  ];
  if (version === 'v2025') {
    routes.push({
      method: 'POST',
      path: '/close',
      body: { env_idx: { type: 'int' } },
      handle({ env_idx }) {
        return { json: { closed: envs.delete(env_idx as number) } };
      },
    });
  }

  const server = await startFastApiLike(routes);
  return { ...server, envIds: () => [...envs.keys()] };
}
