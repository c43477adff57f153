import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeSciWorldServer, startFakeSciWorld } from '../../fakes/agentgym-sciworld';
import { type FakeTextCraftServer, startFakeTextCraft } from '../../../cli/bench/fakes/agentgym-textcraft';
import { type FakeWebShopServer, startFakeWebShop } from '../../fakes/agentgym-webshop';
import { scriptedTextCraftGame } from '../../../cli/bench/fakes/scripted-textcraft-game';

/** The fakes' bytes on the wire, as FastAPI would send them. */
async function raw(url: string, path: string, body?: string, method = 'POST') {
  const init: RequestInit = { method };
  if (body !== undefined) {
    init.body = body;
    init.headers = { 'content-type': 'application/json' };
  }
  const response = await fetch(`${url}${path}`, init);
  return { status: response.status, type: response.headers.get('content-type'), text: await response.text() };
}

describe('fake AgentGym servers speak the real wire format', () => {
  let textcraft: FakeTextCraftServer;
  let textcraft2024: FakeTextCraftServer;
  let sciworld: FakeSciWorldServer;
  let webshop: FakeWebShopServer;

  beforeAll(async () => {
    [textcraft, textcraft2024, sciworld, webshop] = await Promise.all([
      startFakeTextCraft({ game: scriptedTextCraftGame }),
      startFakeTextCraft({ version: 'v2024', game: scriptedTextCraftGame }),
      startFakeSciWorld(),
      startFakeWebShop({ seed: 9 }),
    ]);
  });
  afterAll(async () => {
    await Promise.all([textcraft.close(), textcraft2024.close(), sciworld.close(), webshop.close()]);
  });

  it('TextCraft: compact JSON, ids from 0, {"error"} at 200, 422 without a body, 404 /close on v2024', async () => {
    const created = await raw(textcraft.url, '/create', '{}');
    expect(created.type).toBe('application/json');
    expect(created.text).toMatch(
      /^\{"id":0,"observation":"Crafting commands:\\n.*","done":false,"reward":0\}$/,
    );
    expect((await raw(textcraft.url, '/step', '{"id":0,"action":"get 1 lapis lazuli"}')).text).toBe(
      '{"observation":"Got 1 lapis lazuli","reward":0,"done":false}',
    );
    expect(await raw(textcraft.url, '/step', '{"id":5,"action":"inventory"}')).toEqual({
      status: 200,
      type: 'application/json',
      text: '{"error":"The id 5 is not valid."}',
    });
    expect((await raw(textcraft.url, '/observation?id=0', undefined, 'GET')).text).toBe(
      '"Got 1 lapis lazuli"',
    );
    const noBody = await raw(textcraft.url, '/create');
    expect(noBody.status).toBe(422);
    expect(noBody.text).toBe(
      '{"detail":[{"type":"missing","loc":["body"],"msg":"Field required","input":null}]}',
    );
    expect(await raw(textcraft.url, '/close', '{"id":0}')).toMatchObject({ status: 200, text: 'true' });
    expect((await raw(textcraft.url, '/step', '{"id":0,"action":"inventory"}')).text).toBe(
      '{"error":"The task with environment 0 has been deleted."}',
    );
    expect(await raw(textcraft2024.url, '/close', '{"id":0}')).toEqual({
      status: 404,
      type: 'application/json',
      text: '{"detail":"Not Found"}',
    });
    expect((await raw(textcraft.url, '/step', undefined, 'GET')).status).toBe(405);
  });

  it('SciWorld: {id} from a body-less /create, the reset payload, "list index out of range"', async () => {
    expect((await raw(sciworld.url, '/create')).text).toBe('{"id":0}');
    const reset = JSON.parse((await raw(sciworld.url, '/reset', '{"id":0,"data_idx":1}')).text);
    expect(Object.keys(reset)).toEqual([
      'task_name',
      'var_num',
      'task_description',
      'observation',
      'reward',
      'score',
      'deleted',
      'done',
    ]);
    expect((await raw(sciworld.url, '/reset', '{"id":0,"data_idx":50}')).text).toBe(
      '{"error":"list index out of range"}',
    );
    expect(await raw(sciworld.url, '/close', '{"id":9}')).toEqual({
      status: 500,
      type: 'text/plain; charset=utf-8',
      text: 'Internal Server Error',
    });
  });

  it('WebShop: bare int id, [observation,null] reset, float reward, 500 text for an unknown env_idx, 422', async () => {
    const created = await raw(webshop.url, '/create');
    expect(created.text).toMatch(/^\d+$/);
    const id = Number(created.text);
    const reset = await raw(webshop.url, '/reset', JSON.stringify({ env_idx: id, session_id: 1 }));
    expect(reset.text).toMatch(
      /^\["WebShop \[SEP\] Instruction: \[SEP\] i want a blue ceramic mug.*",null\]$/,
    );
    const step = await raw(webshop.url, '/step', JSON.stringify({ env_idx: id, action: 'search[mug]' }));
    expect(step.text).toMatch(/^\{"state":".*","reward":0\.0,"done":false,"info":null\}$/);
    expect(
      JSON.parse((await raw(webshop.url, `/available_actions?env_idx=${id}`, undefined, 'GET')).text),
    ).toEqual({
      has_search_bar: false,
      clickables: ['back to search', 'next >', 'b0002'],
    });
    expect(await raw(webshop.url, '/step', '{"env_idx":1,"action":"search[x]"}')).toEqual({
      status: 500,
      type: 'text/plain; charset=utf-8',
      text: 'Internal Server Error',
    });
    const missing = await raw(webshop.url, '/reset', '{"session_id":1}');
    expect(missing.status).toBe(422);
    expect(JSON.parse(missing.text).detail[0]).toMatchObject({ type: 'missing', loc: ['body', 'env_idx'] });
    expect((await raw(webshop.url, '/list_envs', undefined, 'GET')).text).toBe(`[${id}]`);
    expect((await raw(webshop.url, '/close', JSON.stringify({ env_idx: id }))).text).toBe('{"closed":true}');
  });

  it('logs every call', async () => {
    const before = textcraft.calls.length;
    await raw(textcraft.url, '/', undefined, 'GET');
    expect(textcraft.calls.slice(before)).toEqual([
      { method: 'GET', path: '/', query: {}, body: undefined, status: 200 },
    ]);
  });
});
