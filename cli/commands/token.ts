import { parseArgs } from 'node:util';
import { ApiError } from '../../shared/contracts/api-error';
import type { TokenCreated, TokenView } from '../../shared/contracts/tokens';
import { type CliCommand, type CliIo, UsageError } from '../command';
import { connectApi } from './export';

export const tokenHelp = `Usage:
  agent-r token create NAME [--scope read|build|admin[,...]] [--expires-days N] [--api URL] [--token T] [--json]
  agent-r token list [--api URL] [--token T] [--json]
  agent-r token revoke ID [--api URL] [--token T] [--json]

create  makes an API token named NAME and prints it once, alone on stdout (only its SHA-256 is
        stored: it cannot be shown again). Use it as --token or AGENT_R_TOKEN, or as
        Authorization: Bearer <token> against the HTTP API. --scope: read (GETs), build (also
        starts and changes work; the default) or admin (also endpoints, worlds, webhooks,
        tokens); a token without the scope a route needs gets 403. --expires-days N: refused
        (401) after N days.
list    the tokens: id, name, scopes, created, expires, last used, revoked (never the tokens).
revoke  revokes token ID; requests with it are refused (401) from then on and its live
        dashboard streams close.

Options:
  --api URL     a running agent-r API (agent-r serve). Without it a local stack is started on
                the local state (.agent-r/state or $AGENT_R_HOME/state) for the command
  --token T     API token for --api (default: $AGENT_R_TOKEN)
  --json        one JSON line on stdout
  -h, --help    this text

Exit code 0 on success, 1 on failure (e.g. unknown ID), 2 on bad usage.`;

const when = (ms: number | null) => (ms === null ? '-' : new Date(ms).toISOString().replace(/\.\d+Z$/, 'Z'));

function table(tokens: TokenView[]): string {
  const rows = [
    ['ID', 'NAME', 'SCOPES', 'CREATED', 'EXPIRES', 'LAST USED', 'STATUS'],
    ...tokens.map((t) => [
      t.id,
      t.name,
      (t.scopes ?? []).join(','),
      when(t.createdAt),
      when(t.expiresAt ?? null),
      when(t.lastUsedAt),
      t.revokedAt ? `revoked ${when(t.revokedAt)}` : 'active',
    ]),
  ];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows
    .map((r) =>
      r
        .map((cell, i) => cell.padEnd(widths[i] ?? 0))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

export const tokenCommand: CliCommand = {
  name: 'token',
  summary: 'create, list and revoke API tokens',
  help: tokenHelp,
  async run(args, io: CliIo) {
    const { values, positionals } = parseArgs({
      args,
      options: {
        api: { type: 'string' },
        token: { type: 'string' },
        json: { type: 'boolean', default: false },
        scope: { type: 'string' },
        'expires-days': { type: 'string' },
      },
      allowPositionals: true,
      strict: true,
    });
    const [sub, ...rest] = positionals;
    if (sub !== 'create' && sub !== 'list' && sub !== 'revoke') {
      throw new UsageError(
        sub
          ? `unknown token subcommand "${sub}" (create, list or revoke)`
          : 'missing subcommand: create, list or revoke',
      );
    }
    const wanted = sub === 'list' ? 0 : 1;
    if (rest.length !== wanted) {
      throw new UsageError(
        sub === 'create'
          ? 'token create takes one NAME'
          : sub === 'revoke'
            ? 'token revoke takes one ID'
            : 'token list takes no arguments',
      );
    }
    const argument = rest[0] ?? '';
    if (sub === 'create' && (argument.trim() === '' || argument.length > 100)) {
      throw new UsageError('NAME must be 1-100 characters');
    }
    const scopes = values.scope?.split(',').map((s) => s.trim());
    if (scopes?.some((s) => !['read', 'build', 'admin'].includes(s)))
      throw new UsageError('--scope takes read, build or admin (comma-separated)');
    const expiresInDays = values['expires-days'] === undefined ? undefined : Number(values['expires-days']);
    if (
      expiresInDays !== undefined &&
      !(Number.isInteger(expiresInDays) && expiresInDays >= 1 && expiresInDays <= 3650)
    )
      throw new UsageError('--expires-days takes a whole number of days, 1-3650');
    if ((scopes || expiresInDays !== undefined) && sub !== 'create')
      throw new UsageError('--scope and --expires-days go with token create');
    if (values.api && !(values.token ?? process.env.AGENT_R_TOKEN)) {
      throw new UsageError('--api needs a token: --token T or AGENT_R_TOKEN');
    }

    const connection = await connectApi(values, io);
    try {
      const { api } = connection;
      if (sub === 'create') {
        const created = await api.json<TokenCreated>('POST', '/v1/tokens', {
          name: argument,
          ...(scopes ? { scopes } : {}),
          ...(expiresInDays !== undefined ? { expiresInDays } : {}),
        });
        if (values.json) io.stdout.write(`${JSON.stringify(created)}\n`);
        else {
          io.stderr.write(`created token ${created.id} "${created.name}" (shown once: store it now)\n`);
          io.stdout.write(`${created.token}\n`);
        }
        return 0;
      }
      if (sub === 'list') {
        const { tokens } = await api.json<{ tokens: TokenView[] }>('GET', '/v1/tokens');
        if (values.json) io.stdout.write(`${JSON.stringify({ tokens })}\n`);
        else
          io.stdout.write(
            tokens.length ? `${table(tokens)}\n` : 'no tokens (the admin token is configured, not listed)\n',
          );
        return 0;
      }
      try {
        const revoked = await api.json<TokenView>('DELETE', `/v1/tokens/${encodeURIComponent(argument)}`);
        if (values.json) io.stdout.write(`${JSON.stringify(revoked)}\n`);
        else io.stdout.write(`revoked ${revoked.id} "${revoked.name}" at ${when(revoked.revokedAt)}\n`);
        return 0;
      } catch (error) {
        if (error instanceof ApiError && error.status === 404) {
          io.stderr.write(`agent-r token: no token with id ${argument} (see agent-r token list)\n`);
          return 1;
        }
        throw error;
      }
    } finally {
      await connection.close();
    }
  },
};
