import { craftingEngineGame } from './crafting-engine-game';
import { type FakeServer, type Route, startFastApiLike } from './fastapi-like';
import type { TextCraftGame } from './scripted-textcraft-game';

/**
 * A fake AgentGym TextCraft server with the real one's wire format (agentenv-textcraft server.py
 * and env_wrapper.py): ids 0,1,2...; /create needs a JSON body and resets the new env to task
 * `id`; failures are HTTP 200 `{"error": ...}`; steps after done are still accepted;
 * /close exists only in `v2025` (404 in `v2024`).
 */
export interface FakeTextCraftOptions {
  version?: 'v2024' | 'v2025';
  /**
   * A new game per env id. Default: the project's crafting engine over the default world; pass
   * `craftingEngineGame(minecraftWorld)` to imitate real TextCraft, or `scriptedTextCraftGame`.
   */
  game?: () => TextCraftGame;
}

export interface FakeTextCraftServer extends FakeServer {
  /** Live (not closed) env ids. */
  envIds(): number[];
}

interface EnvInfo {
  observation: string;
  done: boolean;
  reward: number;
  deleted: boolean;
}

export async function startFakeTextCraft(options: FakeTextCraftOptions = {}): Promise<FakeTextCraftServer> {
  const version = options.version ?? 'v2025';
  const newGame = options.game ?? craftingEngineGame();
  const games = new Map<number, TextCraftGame>();
  const info = new Map<number, EnvInfo>();
  let maxId = 0;

  /** The server's `_check_id`: a message, or undefined when the id is usable. */
  function idProblem(id: number): string | undefined {
    const known = info.get(id);
    if (!known) return `The id ${id} is not valid.`;
    if (known.deleted) return `The task with environment ${id} has been deleted.`;
    return undefined;
  }

  const routes: Route[] = [
    { method: 'GET', path: '/', handle: () => ({ json: 'This is environment TextCraft.' }) },
    {
      method: 'POST',
      path: '/create',
      body: { commands: { type: 'str', default: null }, goal: { type: 'str', default: null } },
      async handle() {
        const id = maxId;
        const game = newGame();
        const observation = await game.reset(id);
        games.set(id, game);
        info.set(id, { observation, done: false, reward: 0, deleted: false });
        maxId++;
        return { json: { id, observation, done: false, reward: 0 } };
      },
    },
    {
      method: 'POST',
      path: '/step',
      body: { id: { type: 'int' }, action: { type: 'str' } },
      async handle({ id, action }) {
        const problem = idProblem(id as number);
        if (problem) return { json: { error: problem } };
        const result = await games.get(id as number)!.step(action as string);
        const payload = { observation: result.observation, reward: result.reward, done: result.done };
        Object.assign(info.get(id as number)!, payload);
        return { json: payload };
      },
    },
    {
      method: 'POST',
      path: '/reset',
      body: { id: { type: 'int' }, data_idx: { type: 'int', default: 0 } },
      async handle({ id, data_idx }) {
        const problem = idProblem(id as number);
        if (problem) return { json: { error: problem } };
        const observation = await games.get(id as number)!.reset(data_idx as number);
        Object.assign(info.get(id as number)!, { observation, done: false, reward: 0, deleted: false });
        return { json: { id, observation, done: false, reward: 0 } };
      },
    },
    {
      method: 'GET',
      path: '/observation',
      query: { id: { type: 'int' } },
      handle({ id }) {
        const problem = idProblem(id as number);
        return { json: problem ? { error: problem } : info.get(id as number)!.observation };
      },
    },
    {
      method: 'GET',
      path: '/detail',
      query: { id: { type: 'int' } },
      handle({ id }) {
        const problem = idProblem(id as number);
        return { json: problem ? { error: problem } : info.get(id as number)! };
      },
    },
  ];
  if (version === 'v2025') {
    routes.push({
      method: 'POST',
      path: '/close',
      body: { id: { type: 'int' } },
      handle({ id }) {
        const known = info.get(id as number);
        if (!known || known.deleted) return { json: false };
        known.deleted = true;
        games.delete(id as number);
        return { json: true };
      },
    });
  }

  const server = await startFastApiLike(routes);
  return {
    ...server,
    envIds: () => [...info].filter(([, env]) => !env.deleted).map(([id]) => id),
  };
}
