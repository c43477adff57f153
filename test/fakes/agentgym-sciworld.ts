import { type FakeServer, type Route, startFastApiLike } from '../../cli/bench/fakes/fastapi-like';
import { SCRIPTED_SCIWORLD_TASKS, scriptedSciWorldGame } from './scripted-sciworld-game';

/**
 * A fake AgentGym SciWorld server with the real one's wire format (agentenv-sciworld server.py
 * and environment.py): /create takes no body and answers `{id}`; /reset loads task `data_idx`
 * (Python list indexing, so an out-of-range index is `{"error": "list index out of range"}`) and
 * runs "look around"; a step after done is `{"error": "The task with environment N has
 * finished."}`; /close exists only in `v2025` (true; HTTP 500 for an unknown id).
 */
export interface FakeSciWorldOptions {
  version?: 'v2024' | 'v2025';
}

export interface FakeSciWorldServer extends FakeServer {
  envIds(): number[];
}

interface EnvInfo {
  deleted: boolean;
  done: boolean;
  [field: string]: unknown;
}

export async function startFakeSciWorld(options: FakeSciWorldOptions = {}): Promise<FakeSciWorldServer> {
  const version = options.version ?? 'v2025';
  const games = new Map<number, ReturnType<typeof scriptedSciWorldGame>>();
  const info = new Map<number, EnvInfo>();
  let maxId = 0;

  function idProblem(id: number, isReset = false): string | undefined {
    const known = info.get(id);
    if (!known) return `The id ${id} is not valid.`;
    if (known.deleted) return `The task with environment ${id} has been deleted.`;
    if (!isReset && known.done) return `The task with environment ${id} has finished.`;
    return undefined;
  }

  const routes: Route[] = [
    { method: 'GET', path: '/', handle: () => ({ json: 'This is environment ScienceWorld.' }) },
    {
      method: 'POST',
      path: '/create',
      handle() {
        const id = maxId++;
        games.set(id, scriptedSciWorldGame());
        info.set(id, { deleted: false, done: false });
        return { json: { id } };
      },
    },
    {
      method: 'POST',
      path: '/reset',
      body: { id: { type: 'int' }, data_idx: { type: 'int' } },
      handle({ id, data_idx }) {
        const problem = idProblem(id as number, true);
        if (problem) return { json: { error: problem } };
        const count = SCRIPTED_SCIWORLD_TASKS.length;
        const index = (data_idx as number) < 0 ? (data_idx as number) + count : (data_idx as number);
        if (index < 0 || index >= count) return { json: { error: 'list index out of range' } };
        const game = games.get(id as number)!;
        game.load(index);
        const look = game.step('look around');
        const task = SCRIPTED_SCIWORLD_TASKS[index]!;
        const payload = {
          task_name: task.taskName,
          var_num: task.variationIdx,
          task_description: game.taskDescription(),
          observation: look.observation,
          reward: look.reward,
          score: look.score,
          deleted: false,
          done: look.done,
        };
        Object.assign(info.get(id as number)!, payload);
        return { json: payload };
      },
    },
    {
      method: 'POST',
      path: '/step',
      body: { id: { type: 'int' }, action: { type: 'str' } },
      handle({ id, action }) {
        const problem = idProblem(id as number);
        if (problem) return { json: { error: problem } };
        const step = games.get(id as number)!.step(action as string);
        const payload = {
          observation: step.observation,
          reward: step.reward,
          score: step.score,
          done: step.done,
        };
        Object.assign(info.get(id as number)!, payload);
        return { json: payload };
      },
    },
    {
      method: 'GET',
      path: '/observation',
      query: { id: { type: 'int' } },
      handle({ id }) {
        const problem = idProblem(id as number);
        return { json: problem ? { error: problem } : (info.get(id as number)!.observation ?? null) };
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
        if (!known) return { crash: true }; // KeyError in the real server
        info.delete(id as number);
        games.delete(id as number);
        return { json: true };
      },
    });
  }

  const server = await startFastApiLike(routes);
  return { ...server, envIds: () => [...info.keys()] };
}
