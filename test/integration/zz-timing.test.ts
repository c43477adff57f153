import { it } from 'vitest';
import { api } from './helpers';
it('timing', async () => {
  for (let round = 0; round < 8; round++) {
    const t = Date.now();
    for (let i = 0; i < 100; i++) {
      const r = await api('/v1/tokens', round % 2 ? { method: 'POST', body: '{"a":1', headers: { 'content-type': 'application/json' } } : {});
      await r.arrayBuffer();
    }
    console.log('ROUND', round, Date.now() - t);
  }
}, 120000);
