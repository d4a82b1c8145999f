import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { AccountError, Accounts, AuditLog, ROLES, apiConfig, isRole, type User } from '../../api/index.js';
import { migrateToLatest, openStore, type Store } from '../../store/index.js';
import { CliError } from '../errors.js';
import { dbOption, dbUrl } from './channels.js';

/** The password: from standard input (`--password-stdin`) or the TYNDAU_PASSWORD variable, never an argument. */
function readPassword(o: { passwordStdin?: boolean }): string {
  const text = o.passwordStdin ? readFileSync(0, 'utf8').replace(/\r?\n$/, '') : process.env.TYNDAU_PASSWORD;
  if (!text)
    throw new CliError('give the password on standard input (--password-stdin) or in TYNDAU_PASSWORD', 2);
  return text;
}

async function withAccounts<T>(
  o: { db?: string },
  fn: (a: Accounts, audit: AuditLog, store: Store) => Promise<T>,
): Promise<T> {
  const store = openStore({ url: dbUrl(o) });
  try {
    await migrateToLatest(store);
    const c = apiConfig();
    const accounts = new Accounts(
      store.db,
      { N: c.scryptN, r: c.scryptR, p: c.scryptP },
      c.passwordMinLength,
    );
    return await fn(accounts, new AuditLog(store.db), store);
  } catch (err) {
    if (err instanceof AccountError) throw new CliError(err.message, 2);
    throw err;
  } finally {
    await store.close();
  }
}

async function mustUser(a: Accounts, username: string): Promise<User> {
  const found = await a.findByUsername(username);
  if (!found) throw new CliError(`no user "${username}" (see: tyndau users list)`, 2);
  return found.user;
}

const CLI_ACTOR = { userId: null, name: process.env.USER ?? 'cli', role: 'operator', via: 'cli' as const };

/** `tyndau users`: accounts of the web app and the API, and API tokens for capture nodes and integrations. */
export function register(program: Command): void {
  const users = program.command('users').description('user accounts and API tokens of the web app and API');

  users
    .command('add <username>')
    .description(`create an account; role: ${ROLES.join(', ')}`)
    .requiredOption('--role <role>', 'what the account may do')
    .option('--name <name>', 'display name')
    .option('--cmo <id>', 'cmo_reviewer: the CMO it works for')
    .option('--licensee <id>', 'broadcaster, capture_node: the licensee it acts for')
    .option('--holder <id>', 'rights_holder: the rights holder it is')
    .option('--iin <iin>', "the person's IIN (links a digital-signature login)")
    .option('--password-stdin', 'read the password from standard input (else TYNDAU_PASSWORD)')
    .option('--no-password', 'no password login (an external identity provider only)')
    .addOption(dbOption())
    .action(async (username: string, o) => {
      if (!isRole(o.role))
        throw new CliError(`--role must be one of ${ROLES.join(', ')}, got "${o.role}"`, 2);
      const password = o.password === false ? null : readPassword(o);
      await withAccounts(o, async (a, audit) => {
        const u = await a.createUser({
          username,
          displayName: o.name,
          role: o.role,
          cmoId: o.cmo,
          licenseeId: o.licensee,
          holderId: o.holder,
          iin: o.iin,
          password,
        });
        await audit.record(
          CLI_ACTOR,
          'user.create',
          { kind: 'user', id: u.id },
          { username: u.username, role: u.role },
        );
        process.stdout.write(`${u.id}\t${u.username}\t${u.role}\n`);
      });
    });

  users
    .command('list')
    .description('every account')
    .addOption(dbOption())
    .action(async (o) => {
      await withAccounts(o, async (a) => {
        for (const u of await a.listUsers()) {
          const scope = u.cmoId ?? u.licenseeId ?? u.holderId ?? '';
          process.stdout.write(
            `${u.username}\t${u.role}\t${scope}\t${u.disabled ? 'disabled' : 'active'}\t${u.displayName}\n`,
          );
        }
      });
    });

  users
    .command('passwd <username>')
    .description("set a new password (ends the account's sessions)")
    .option('--password-stdin', 'read the password from standard input (else TYNDAU_PASSWORD)')
    .addOption(dbOption())
    .action(async (username: string, o) => {
      const password = readPassword(o);
      await withAccounts(o, async (a, audit) => {
        const u = await mustUser(a, username);
        await a.setPassword(u.id, password);
        await audit.record(CLI_ACTOR, 'user.update', { kind: 'user', id: u.id }, { passwordChanged: true });
      });
    });

  for (const [name, disabled] of [
    ['disable', true],
    ['enable', false],
  ] as const) {
    users
      .command(`${name} <username>`)
      .description(disabled ? 'refuse the account (ends its sessions)' : 'allow the account again')
      .addOption(dbOption())
      .action(async (username: string, o) => {
        await withAccounts(o, async (a, audit) => {
          const u = await mustUser(a, username);
          await a.setDisabled(u.id, disabled);
          await audit.record(CLI_ACTOR, 'user.update', { kind: 'user', id: u.id }, { disabled });
        });
      });
  }

  users
    .command('token <username>')
    .description('issue an API token acting as the account (printed once: store it in the capture node)')
    .requiredOption('--name <name>', 'what uses the token, e.g. "capture node, studio 2"')
    .option('--days <n>', 'expires after this many days', (v) => Number(v))
    .addOption(dbOption())
    .action(async (username: string, o) => {
      if (o.days !== undefined && !(o.days > 0))
        throw new CliError(`--days must be a positive number, got ${o.days}`, 2);
      await withAccounts(o, async (a, audit) => {
        const u = await mustUser(a, username);
        const { token, info } = await a.issueToken(
          u.id,
          o.name,
          o.days ? Date.now() + o.days * 86_400_000 : null,
        );
        await audit.record(
          CLI_ACTOR,
          'token.issue',
          { kind: 'api_token', id: info.id },
          { userId: u.id, name: info.name },
        );
        process.stdout.write(`${token}\n`);
      });
    });

  users
    .command('revoke-token <tokenId>')
    .description('revoke an API token by its id (t-...)')
    .addOption(dbOption())
    .action(async (tokenId: string, o) => {
      await withAccounts(o, async (a, audit) => {
        if (!(await a.revokeToken(tokenId))) throw new CliError(`no active API token "${tokenId}"`, 2);
        await audit.record(CLI_ACTOR, 'token.revoke', { kind: 'api_token', id: tokenId });
      });
    });
}
