/** CONNACK return codes (MQTT 3.1.1 §3.2.2.3) and MQTT 5 reason codes (§2.4) the hub uses. */

export type ConnectRefusal =
  | 'bad-protocol'
  | 'bad-client-id'
  | 'unavailable'
  | 'bad-credentials'
  | 'not-authorized';

const v4: Record<ConnectRefusal, number> = {
  'bad-protocol': 1,
  'bad-client-id': 2,
  unavailable: 3,
  'bad-credentials': 4,
  'not-authorized': 5,
};

const v5: Record<ConnectRefusal, number> = {
  'bad-protocol': 0x84,
  'bad-client-id': 0x85,
  unavailable: 0x88,
  'bad-credentials': 0x86,
  'not-authorized': 0x87,
};

export function connackCode(
  version: 3 | 4 | 5,
  refusal: ConnectRefusal,
): { returnCode?: number; reasonCode?: number } {
  return version === 5 ? { reasonCode: v5[refusal] } : { returnCode: v4[refusal] };
}

export const REASON = {
  success: 0x00,
  grantedQos1: 0x01,
  unspecifiedError: 0x80,
  malformedPacket: 0x81,
  protocolError: 0x82,
  implementationSpecific: 0x83,
  notAuthorized: 0x87,
  serverBusy: 0x89,
  sessionTakenOver: 0x8e,
  topicFilterInvalid: 0x8f,
  topicNameInvalid: 0x90,
  packetTooLarge: 0x95,
  quotaExceeded: 0x97,
  payloadFormatInvalid: 0x99,
  qosNotSupported: 0x9b,
} as const;
