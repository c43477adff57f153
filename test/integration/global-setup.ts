import type { TestProject } from 'vitest/node';
import { startSimPolicy } from '../../tools/sim-policy/server';

declare module 'vitest' {
  export interface ProvidedContext {
    simPolicyUrl: string;
  }
}

// sim-policy is a Node HTTP server, so it runs here (in Node) and the workers inside workerd
// reach it over loopback like any real OpenAI-compatible endpoint.
export default async function setup(project: TestProject) {
  const sim = await startSimPolicy({ latencyMs: 0, perTokenMs: 0, seed: 7 });
  project.provide('simPolicyUrl', sim.url);
  return async () => {
    await sim.close();
  };
}
