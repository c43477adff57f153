// Preloaded into `wrangler dev` by the local stack (NODE_OPTIONS=--require) unless it is asked to
// watch: the workers are bundled once at startup and never watched. esbuild's watch mode polls the
// source files of every worker's bundle, a constant few percent of a core for as long as the
// stack runs (a build's orchestration CPU counted it), for rebuilds nobody edits the code for.
// wrangler loads esbuild with require('esbuild') and starts watching with `ctx.watch()`; here that
// call runs one build instead (the same build, its plugins' onEnd report it to wrangler).
'use strict';
const Module = require('node:module');

const load = Module._load;
Module._load = function loadWithoutWatch(request, ...rest) {
  const loaded = load.call(this, request, ...rest);
  if (request !== 'esbuild' || !loaded || typeof loaded.context !== 'function') return loaded;
  const context = async (options) => {
    const ctx = await loaded.context(options);
    return { ...ctx, watch: async () => void (await ctx.rebuild()) };
  };
  return { ...loaded, context };
};
