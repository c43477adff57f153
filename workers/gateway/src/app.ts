import { OpenAPIHono } from '@hono/zod-openapi';
import { bodyLimit } from 'hono/body-limit';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { z } from 'zod';
import { missingProductionSecrets } from '../../common/secrets';
import { requireBearer } from './auth';
import { limitByIp } from './rate-limit';
import type { GatewayContext } from './context';
import { dashboardApp } from './dashboard';
import { liveApp } from './dashboard/live';
import { ApiError } from '../../../shared/contracts/api-error';
import { describeZodError, errorResponse } from './errors';
import { datasetsApp } from './routes/datasets';
import { endpointsApp } from './routes/endpoints';
import { evalsApp } from './routes/evals';
import { hooksApp } from './routes/hooks';
import { iterationFilesApp } from './routes/iteration-files';
import { iterationHooksApp, iterationsApp, loopsApp } from './routes/iterations';
import { datasetDataCardApp, runDataCardApp } from './routes/datacards';
import { runDataApp } from './routes/run-data';
import { runsApp } from './routes/runs';
import { tokensApp } from './routes/tokens';
import { webhooksApp } from './routes/webhooks';
import { worldsApp } from './routes/worlds';

export const MAX_BODY_BYTES = 2 * 1024 * 1024;

/** The HTTP API: every /v1 route behind a bearer token, one error envelope for every failure. */
export function buildApp() {
  const app = new OpenAPIHono<GatewayContext>({
    defaultHook: (result, c) => {
      if (!result.success) {
        const { message, details } = describeZodError(result.error as z.ZodError);
        return errorResponse(c, 400, 'invalid_request', message, details);
      }
    },
  });

  app.onError((error, c) => {
    // The one domain error (JobInputError and ConfigurationError are ApiErrors too).
    if (error instanceof ApiError)
      return errorResponse(c, error.status as ContentfulStatusCode, error.code, error.message, error.details);
    if (error instanceof z.ZodError) {
      const { message, details } = describeZodError(error);
      return errorResponse(c, 400, 'invalid_request', message, details);
    }
    if (error instanceof HTTPException) {
      const status = error.status;
      if (status === 415)
        return errorResponse(
          c,
          415,
          'unsupported_media_type',
          'send the body as JSON with Content-Type: application/json',
        );
      return errorResponse(
        c,
        status,
        status === 413 ? 'payload_too_large' : 'http_error',
        error.message || 'request failed',
      );
    }
    if (error instanceof SyntaxError)
      return errorResponse(c, 400, 'invalid_json', `malformed JSON body: ${error.message}`);
    console.error('unhandled error', error);
    return errorResponse(c, 500, 'internal', 'internal error');
  });
  app.notFound((c) =>
    errorResponse(c, 404, 'not_found', `no route for ${c.req.method} ${new URL(c.req.url).pathname}`),
  );

  // ENVIRONMENT=production without its secrets answers 503 to everything but /health.
  app.use('*', async (c, next) => {
    const missing = missingProductionSecrets(c.env);
    if (missing.length === 0 || c.req.path === '/health') return next();
    return errorResponse(
      c,
      503,
      'not_configured',
      `ENVIRONMENT=production but ${missing.join(', ')} not set: set them with \`wrangler secret put\``,
    );
  });
  app.get('/health', (c) => c.json({ ok: true }));
  app.route('/', dashboardApp); // the dashboard page and its bundled assets (no auth: the page logs in)
  app.doc('/openapi.json', {
    openapi: '3.0.3',
    info: {
      title: 'agent-r',
      version: '0.1.0',
      description: 'Agent-R revision-trajectory builds as a service',
    },
  });
  app.openAPIRegistry.registerComponent('securitySchemes', 'bearer', { type: 'http', scheme: 'bearer' });

  app.use(
    '/v1/*',
    bodyLimit({
      maxSize: MAX_BODY_BYTES,
      onError: (c) =>
        errorResponse(c, 413, 'payload_too_large', `request body is larger than ${MAX_BODY_BYTES} bytes`),
    }),
  );
  app.use('/v1/*', limitByIp); // per client IP, before the signed routes and the bearer check
  app.route('/v1/hooks', hooksApp); // signed, not bearer: mounted before the bearer middleware
  app.route('/v1/iterations', iterationHooksApp); // the trainer's signed callback
  app.route('/v1/iterations', iterationFilesApp); // the signed download links handed to the trainer
  app.route('/v1/runs', liveApp); // live tree WebSocket (a ticket, not the bearer) + its ticket route
  app.use('/v1/*', requireBearer);
  app.route('/v1/runs', runsApp);
  app.route('/v1/runs', runDataApp);
  app.route('/v1/runs', runDataCardApp);
  app.route('/v1/endpoints', endpointsApp);
  app.route('/v1/worlds', worldsApp);
  app.route('/v1/webhooks', webhooksApp);
  app.route('/v1/tokens', tokensApp);
  app.route('/v1/datasets', datasetsApp);
  app.route('/v1/datasets', datasetDataCardApp);
  app.route('/v1/evals', evalsApp);
  app.route('/v1/loops', loopsApp);
  app.route('/v1/iterations', iterationsApp);
  return app;
}
