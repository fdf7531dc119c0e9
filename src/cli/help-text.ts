// What `--help` adds below each command's options: examples and exit codes, kept in one place keyed by the
// command's path ("actions approve"), plus the one-line summaries the top-level help lists without
// loading any command module. Attached by program.ts; the command files stay about behaviour.

interface HelpText {
  examples: string[];
  /** What this command adds to (or says more precisely than) the common codes; the rule is in the README. */
  exitCodes?: Record<number, string>;
}

const COMMON_EXIT: Record<number, string> = {
  0: 'done',
  1: 'error: bad input, store or upstream unreachable, nothing found (the message on stderr says which)',
};

/** Top-level commands as `codex-fleet --help` lists them; a test keeps them equal to the commands' own. */
export const COMMAND_SUMMARIES: Record<string, string> = {
  quota: 'Quota of every account: plan, 5h/weekly/monthly remaining, resets, credits, state',
  report: 'Health report: status, score, quota, flagged accounts and which account to use next',
  forecast: 'When each account and the pool run out at the current burn rate, and when capacity returns',
  metrics: 'Print Prometheus metrics (per-account quota, reset, score, status; pool totals; probe errors)',
  inspect: 'Inspect every account now: state, suggested action (Keep/Reauth/Disable/Enable/Delete), reason, evidence',
  actions: 'The action queue: list, approve, reject; and the audit log',
  runs: 'Stored inspection runs',
  schedule: 'Server inspection schedule',
  settings: 'Show or change the stored settings',
  accounts: 'Manage accounts: list, show, import, add, remove, enable, disable',
  cpa: 'CLIProxyAPI (CPA) servers: configure, list accounts, check',
  serve: 'Web dashboard, JSON API, live updates (SSE) and Prometheus /metrics',
  sim: 'Run the upstream simulator (ChatGPT usage/responses + OAuth token endpoint) on 127.0.0.1',
  db: 'database schema and migration between SQLite and PostgreSQL',
  monitor: 'request monitoring: collect CPA usage records, show collector status, import JSONL',
  doctor: 'Check CPA servers, usage publishing, auth files, auth_index stability, policy and the collector',
  completion: 'Print a shell completion script (bash, zsh or fish)',
};

const HELP: Record<string, HelpText> = {
  '': {
    examples: [
      'codex-fleet quota --demo',
      'codex-fleet report --json > report.json',
      'codex-fleet serve --port 8081',
      'source <(codex-fleet completion bash)',
    ],
  },
  quota: {
    examples: ['codex-fleet quota', 'codex-fleet quota alice --refresh', 'codex-fleet quota --json | jq ".[].state"'],
    exitCodes: { 1: 'error, no accounts, or an account could not be read now (its reason on stderr)' },
  },
  report: {
    exitCodes: { 1: 'error or no accounts' },
    examples: [
      'codex-fleet report',
      'codex-fleet report --live --model gpt-5-codex',
      'codex-fleet report --json --out report.json',
    ],
  },
  forecast: { examples: ['codex-fleet forecast', 'codex-fleet forecast --json'] },
  metrics: { examples: ['codex-fleet metrics > /var/lib/node_exporter/codex-fleet.prom'] },
  inspect: {
    examples: ['codex-fleet inspect', 'codex-fleet inspect --source cpa --json'],
    exitCodes: { 1: 'error, no accounts, or the run did not finish' },
  },
  actions: { examples: ['codex-fleet actions list', 'codex-fleet actions approve 12 13'] },
  'actions list': { examples: ['codex-fleet actions list --status executed --json'] },
  'actions approve': {
    examples: ['codex-fleet actions approve 12', 'codex-fleet actions approve 12 13 14'],
    exitCodes: { 1: 'an id was unknown or an action failed (each reported on stderr); the others still ran' },
  },
  'actions reject': { examples: ['codex-fleet actions reject 12'] },
  'actions audit': { examples: ['codex-fleet actions audit --limit 20'] },
  runs: { examples: ['codex-fleet runs list', 'codex-fleet runs show <id>'] },
  'runs list': { examples: ['codex-fleet runs list --limit 5 --json'] },
  'runs show': { examples: ['codex-fleet runs show <id> --json'] },
  schedule: {
    examples: ['codex-fleet schedule show', 'codex-fleet schedule set --daily 06:00,18:00 --tz Europe/Berlin'],
  },
  'schedule show': { examples: ['codex-fleet schedule show --json'] },
  'schedule set': { examples: ['codex-fleet schedule set --every 60', 'codex-fleet schedule set --off'] },
  settings: {
    examples: ['codex-fleet settings show', 'codex-fleet settings set \'{"policy":{"autoDisable":true}}\''],
  },
  'settings show': { examples: ['codex-fleet settings show | jq .notifications'] },
  'settings set': {
    examples: [
      'codex-fleet settings set \'{"probeConcurrency":3}\'',
      'codex-fleet settings set \'{"notifications":{"rules":{"planExpiryDays":14}}}\'',
    ],
  },
  accounts: { examples: ['codex-fleet accounts list', 'codex-fleet accounts disable alice'] },
  'accounts list': { examples: ['codex-fleet accounts list --json'] },
  'accounts show': { examples: ['codex-fleet accounts show alice'] },
  'accounts import': { examples: ['codex-fleet accounts import ~/.cli-proxy-api/*.json'] },
  'accounts add': {
    examples: ['codex-fleet accounts add --name bob < tokens.json', 'codex-fleet accounts add --from-file tokens.json'],
  },
  'accounts remove': {
    examples: ['codex-fleet accounts remove alice', 'codex-fleet accounts remove alice --delete-file'],
  },
  'accounts enable': { examples: ['codex-fleet accounts enable alice'] },
  'accounts disable': { examples: ['codex-fleet accounts disable alice'] },
  'accounts refresh': { examples: ['codex-fleet accounts refresh alice'] },
  cpa: { examples: ['codex-fleet cpa list', 'codex-fleet cpa check'] },
  'cpa list': { examples: ['codex-fleet cpa list --json'] },
  'cpa add': { examples: ['CODEX_FLEET_CPA_KEY=… codex-fleet cpa add main http://127.0.0.1:8317'] },
  'cpa remove': { examples: ['codex-fleet cpa remove main'] },
  'cpa accounts': { examples: ['codex-fleet cpa accounts main'] },
  'cpa check': {
    examples: ['codex-fleet cpa check main'],
    exitCodes: { 1: 'a check failed or a server was unreachable' },
  },
  serve: {
    examples: ['codex-fleet serve', 'codex-fleet serve --demo', 'codex-fleet serve --host 0.0.0.0 --port 8081'],
    exitCodes: {
      0: 'stopped by SIGTERM or SIGINT',
      1: 'could not start (port in use, store unreachable, no admin key)',
    },
  },
  sim: {
    examples: [
      'codex-fleet sim --accounts 20 --dir /tmp/accounts',
      'codex-fleet sim --scenarios healthy:5,exhausted:2',
    ],
  },
  db: { examples: ['codex-fleet db status', 'codex-fleet db migrate --database-url postgres://localhost/fleet'] },
  'db migrate': { examples: ['codex-fleet db migrate'] },
  'db status': { examples: ['codex-fleet db status --json'] },
  'db copy': { examples: ['codex-fleet db copy --from sqlite:data/codex-fleet.db --to postgres://localhost/fleet'] },
  monitor: { examples: ['codex-fleet monitor run --server main', 'codex-fleet monitor status'] },
  'monitor run': {
    examples: ['codex-fleet monitor run --server main', 'codex-fleet monitor run --server main --once'],
    exitCodes: { 3: 'refused: another collector holds this usage queue' },
  },
  'monitor status': { examples: ['codex-fleet monitor status --json'] },
  'monitor import': {
    examples: ['codex-fleet monitor import usage.jsonl', 'cat usage.jsonl | codex-fleet monitor import -'],
  },
  doctor: { examples: ['codex-fleet doctor', 'codex-fleet doctor --json'], exitCodes: { 1: 'a check failed' } },
  completion: {
    examples: [
      'source <(codex-fleet completion bash)         # bash, e.g. in ~/.bashrc',
      'codex-fleet completion zsh > ~/.zfunc/_codex-fleet   # a directory in $fpath',
      'codex-fleet completion fish > ~/.config/fish/completions/codex-fleet.fish',
    ],
  },
};

/** The text after a command's options, or null for a path without an entry. */
export function helpTextFor(path: string): string | null {
  const entry = HELP[path];
  if (!entry) return null;
  const codes = { ...COMMON_EXIT, ...entry.exitCodes };
  return [
    '',
    'Examples:',
    ...entry.examples.map((e) => `  $ ${e}`),
    '',
    'Exit codes:',
    ...Object.entries(codes).map(([code, meaning]) => `  ${code}  ${meaning}`),
  ].join('\n');
}

export function helpPaths(): string[] {
  return Object.keys(HELP);
}
