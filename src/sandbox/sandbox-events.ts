import type { SandboxInstitution } from './sandbox-data.js';
import type { SandboxMember } from './sandbox-store.js';

/**
 * The postMessage payloads the widget page sends, built on the server so their shapes are
 * unit-testable; the page only forwards them. Shapes follow BEHAVIOUR.md "postMessage events".
 */
export interface WidgetEvent {
  type: string;
  metadata: Record<string, unknown>;
}

export type EventGeneration = 1 | 2;

export function loadedEvent(initialStep: string): WidgetEvent {
  return { type: 'connect/loaded', metadata: { initial_step: initialStep } };
}

export function stepChangeEvent(current: string, previous: string): WidgetEvent {
  return { type: 'connect/stepChange', metadata: { current, previous } };
}

export function selectedInstitutionEvent(institution: SandboxInstitution): WidgetEvent {
  return {
    type: 'connect/selectedInstitution',
    metadata: { name: institution.name, guid: institution.id, url: institution.url, code: institution.id },
  };
}

/** Generation 1 names (member_guid, user_guid) or generation 2 names (connectionId, aggregatorUserId). */
function sharedFields(member: SandboxMember, generation: EventGeneration): Record<string, unknown> {
  return generation === 1
    ? { aggregator: member.aggregator, member_guid: member.connectionId, user_guid: member.aggregatorUserId }
    : { aggregator: member.aggregator, connectionId: member.connectionId, aggregatorUserId: member.aggregatorUserId };
}

export function memberStatusUpdateEvent(member: SandboxMember, generation: EventGeneration): WidgetEvent {
  return {
    type: 'connect/memberStatusUpdate',
    metadata: {
      ucpInstitutionId: member.institutionId,
      ...sharedFields(member, generation),
      [generation === 1 ? 'connection_status' : 'connectionStatus']: member.status,
    },
  };
}

export function memberConnectedEvent(member: SandboxMember, generation: EventGeneration): WidgetEvent {
  return {
    type: 'connect/memberConnected',
    metadata: { ucpInstitutionId: member.institutionId, ...sharedFields(member, generation) },
  };
}

/** The widget's own code sends this shape in both versions. */
export function memberErrorEvent(member: SandboxMember): WidgetEvent {
  return { type: 'connect/memberError', metadata: { member: { guid: member.connectionId, connection_status: member.status } } };
}
