import { createHash } from 'node:crypto';
import type { SandboxMember } from './sandbox-store.js';

/** A fake institution shown by the widget page. `id` is its UCP institution id. */
export interface SandboxInstitution {
  id: string;
  name: string;
  url: string;
  aggregator: string;
  /** Whether connecting succeeds (CONNECTED) or the credentials are refused (DENIED). */
  outcome: 'connected' | 'denied';
}

export const INSTITUTIONS: readonly SandboxInstitution[] = [
  { id: 'sandbox-bank', name: 'Sandbox Bank', url: 'https://sandbox-bank.example', aggregator: 'sophtron', outcome: 'connected' },
  { id: 'mx-bank', name: 'MX Bank', url: 'https://mx-bank.example', aggregator: 'mx', outcome: 'connected' },
  { id: 'failure-bank', name: 'Failure Bank', url: 'https://failure-bank.example', aggregator: 'sophtron', outcome: 'denied' },
];

/**
 * An institution id the simulator has not heard of (a BFF test may pass any) still connects,
 * so that refresh and preselected-institution flows work with arbitrary ids.
 */
export function findInstitution(id: string, aggregator?: string): SandboxInstitution {
  return (
    INSTITUTIONS.find((institution) => institution.id === id) ?? {
      id,
      name: `Institution ${id}`,
      url: 'https://institution.example',
      aggregator: aggregator ?? 'sophtron',
      outcome: 'connected',
    }
  );
}

/** Ids derived from the connection id, so the same member always shows the same accounts. */
function stableId(prefix: string, ...parts: string[]): string {
  const hex = createHash('sha256').update(parts.join('\u0000')).digest('hex');
  return `${prefix}-${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

const ACCOUNT_KINDS = [
  { key: 'checking', accountType: 'CHECKING', number: '4921710685', balance: 5000 },
  { key: 'savings', accountType: 'SAVINGS', number: '7733104529', balance: 12500 },
] as const;

export function accountIds(member: SandboxMember): string[] {
  return ACCOUNT_KINDS.map((kind) => stableId('ACT', member.connectionId, kind.key));
}

function fiAttributes(member: SandboxMember): Array<{ name: string; value: string }> {
  return [
    { name: 'member_guid', value: member.connectionId },
    { name: 'institution_guid', value: member.institutionId },
    { name: 'institution_name', value: findInstitution(member.institutionId).name },
  ];
}

/** `{ accounts: [{ depositAccount: {...} }] }` as in the openapi examples. A member that never connected has none. */
export function accountsOf(member: SandboxMember, connected: boolean): { accounts: unknown[] } {
  if (!connected) return { accounts: [] };
  return {
    accounts: ACCOUNT_KINDS.map((kind) => ({
      depositAccount: {
        accountId: stableId('ACT', member.connectionId, kind.key),
        accountType: kind.accountType,
        accountNumber: kind.number,
        accountNumberDisplay: `****${kind.number.slice(-4)}`,
        productName: null,
        nickname: `Sandbox ${kind.key}`,
        status: 'OPEN',
        currency: { currencyCode: 'USD' },
        fiAttributes: fiAttributes(member),
        routingTransitNumber: '011000015',
        balanceType: 'ASSET',
        currentBalance: kind.balance,
        availableBalance: kind.balance,
      },
    })),
  };
}

/** `{ customers: [...] }` as in the openapi example. */
export function identityOf(member: SandboxMember, connected: boolean): { customers: unknown[] } {
  if (!connected) return { customers: [] };
  return {
    customers: [
      {
        customerId: stableId('ACO', member.connectionId, 'owner'),
        name: { first: 'Sandy', last: 'Box' },
        email: ['sandy.box@example.com'],
        addresses: [{ line1: '1 Sandbox Way', city: 'Lehi', state: 'Utah', postalCode: '84043' }],
        telephones: [{ number: '555-555-0100' }],
        accounts: accountIds(member).map((accountId) => ({ accountId })),
      },
    ],
  };
}

const DAY_MS = 86_400_000;
const TRANSACTIONS = [
  { daysAgo: 1, description: 'Paycheck', debitCreditMemo: 'CREDIT', category: 'Paycheck', amount: 1250 },
  { daysAgo: 3, description: 'Grocery Store', debitCreditMemo: 'DEBIT', category: 'Groceries', amount: 54.49 },
  { daysAgo: 10, description: 'Power Company', debitCreditMemo: 'DEBIT', category: 'Utilities', amount: 29.92 },
  { daysAgo: 60, description: 'Book Shop', debitCreditMemo: 'DEBIT', category: 'Shopping', amount: 18.46 },
] as const;

const isoDate = (ms: number) => new Date(ms).toISOString().slice(0, 10);

/**
 * `{ transactions: [{ depositTransaction: {...} }] }`, dated relative to the simulator clock.
 * Defaults as documented: start 120 days ago, end 5 days ahead; both bounds inclusive.
 */
export function transactionsOf(
  member: SandboxMember,
  accountId: string,
  range: { startDate: string | undefined; endDate: string | undefined },
  now: number,
): { transactions: unknown[] } {
  const start = range.startDate ?? isoDate(now - 120 * DAY_MS);
  const end = range.endDate ?? isoDate(now + 5 * DAY_MS);
  return {
    transactions: TRANSACTIONS.map((t, index) => ({ ...t, posted: now - t.daysAgo * DAY_MS, index }))
      .filter((t) => isoDate(t.posted) >= start && isoDate(t.posted) <= end)
      .map((t) => ({
        depositTransaction: {
          accountId,
          transactionId: stableId('TRN', accountId, String(t.index)),
          postedTimestamp: new Date(t.posted).toISOString(),
          transactionTimestamp: new Date(t.posted - DAY_MS).toISOString(),
          description: t.description,
          debitCreditMemo: t.debitCreditMemo,
          memo: null,
          category: t.category,
          status: 'POSTED',
          amount: t.amount,
          fiAttributes: [...fiAttributes(member), { name: 'account_guid', value: accountId }],
        },
      })),
  };
}
