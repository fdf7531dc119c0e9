// One ChatGPT Team workspace with several seats: every seat shares the workspace id (chatgpt_account_id)
// and has its own user, tokens and usage limits. The default plays three seats whose quotas differ, one
// of them exhausted: the case where telling seats apart by workspace alone shows one account, not three.
import type { SimAccountSpec } from './account.ts';

export const TEAM_WORKSPACE_ID = 'team-ws-0001';

export interface TeamSeat {
  email: string;
  scenario?: SimAccountSpec['scenario'];
  primaryUsedPercent?: number;
  secondaryUsedPercent?: number;
}

export const DEFAULT_TEAM_SEATS: readonly TeamSeat[] = [
  { email: 'seat1@team.example.test', primaryUsedPercent: 12, secondaryUsedPercent: 20 },
  { email: 'seat2@team.example.test', primaryUsedPercent: 64, secondaryUsedPercent: 41 },
  { email: 'seat3@team.example.test', scenario: 'exhausted' },
];

/** Simulator specs for the seats of one Team workspace (file names `codex-<email>`, as CPA keeps them). */
export function teamWorkspaceAccounts(
  seats: readonly TeamSeat[] = DEFAULT_TEAM_SEATS,
  workspaceId: string = TEAM_WORKSPACE_ID,
): SimAccountSpec[] {
  return seats.map((s) => ({
    id: workspaceId,
    email: s.email,
    name: `codex-${s.email}`,
    plan: 'team',
    scenario: s.scenario ?? 'healthy',
    ...(s.primaryUsedPercent == null ? {} : { primaryUsedPercent: s.primaryUsedPercent }),
    ...(s.secondaryUsedPercent == null ? {} : { secondaryUsedPercent: s.secondaryUsedPercent }),
  }));
}
