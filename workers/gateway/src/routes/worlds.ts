import { OpenAPIHono, createRoute } from '@hono/zod-openapi';
import { drizzle } from 'drizzle-orm/d1';
import { z } from 'zod';
import { worlds } from '../../../../shared/db/schema';
import { worldNameSchema, worldSchema, worldCounts } from '../../../../shared/env/crafting/world';
import { builtInWorlds, getBuiltInWorld } from '../../../../shared/worlds';
import { forgetWorld, loadWorld, worldKey } from '../../../common/worlds';
import type { GatewayContext } from '../context';
import { ApiError, notFound } from '../../../../shared/contracts/api-error';
import { errorResponses, jsonBody, jsonResponse } from '../openapi';
import { worldListSchema, worldSummarySchema } from '../../../../shared/contracts/worlds';

const nameParam = z.object({ name: worldNameSchema });

export const worldsApp = new OpenAPIHono<GatewayContext>();

worldsApp.openapi(
  createRoute({
    method: 'put',
    path: '/{name}',
    summary: 'Store a crafting world (as made by agent-r world import) so builds can use it by name',
    request: { params: nameParam, ...jsonBody(worldSchema) },
    responses: { 201: jsonResponse(worldSummarySchema, 'Stored'), ...errorResponses },
  }),
  async (c) => {
    const { name } = c.req.valid('param');
    const world = c.req.valid('json');
    if (world.name !== name)
      throw new ApiError(400, 'invalid_request', `the body is world "${world.name}", the URL says "${name}"`);
    if (getBuiltInWorld(name))
      throw new ApiError(409, 'conflict', `"${name}" is a built-in world and cannot be replaced`);
    const counts = worldCounts(world);
    await c.env.BUCKET.put(worldKey(name), JSON.stringify(world), {
      httpMetadata: { contentType: 'application/json' },
    });
    const row = {
      recipes: counts.recipes,
      goals: counts.goals,
      baseItems: counts.baseItems,
      r2Key: worldKey(name),
      createdAt: Date.now(),
    };
    await drizzle(c.env.DB)
      .insert(worlds)
      .values({ name, ...row })
      .onConflictDoUpdate({ target: worlds.name, set: row });
    forgetWorld(name);
    return c.json(
      { name, builtIn: false, recipes: row.recipes, goals: row.goals, baseItems: row.baseItems },
      201,
    );
  },
);

worldsApp.openapi(
  createRoute({
    method: 'get',
    path: '/',
    summary: 'Built-in and stored worlds',
    responses: {
      200: jsonResponse(worldListSchema, 'Worlds'),
      ...errorResponses,
    },
  }),
  async (c) => {
    const stored = await drizzle(c.env.DB).select().from(worlds).orderBy(worlds.name).all();
    const builtIn = Object.values(builtInWorlds).map((w) => {
      const { recipes, goals, baseItems } = worldCounts(w);
      return { name: w.name, builtIn: true, recipes, goals, baseItems };
    });
    return c.json(
      {
        worlds: [
          ...builtIn,
          ...stored.map((w) => ({
            name: w.name,
            builtIn: false,
            recipes: w.recipes,
            goals: w.goals,
            baseItems: w.baseItems,
          })),
        ],
      },
      200,
    );
  },
);

worldsApp.openapi(
  createRoute({
    method: 'get',
    path: '/{name}',
    summary: 'One world with its recipes and goals',
    request: { params: nameParam },
    responses: { 200: jsonResponse(worldSchema, 'The world'), ...errorResponses },
  }),
  async (c) => {
    const { name } = c.req.valid('param');
    const world = await loadWorld(c.env, name);
    if (!world) throw notFound(`world ${name}`);
    return c.json(world, 200);
  },
);
