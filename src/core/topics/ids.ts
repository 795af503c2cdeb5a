/**
 * Device and module id rules. These run on every CONNECT and every publish topic, so the
 * check is a table lookup per character, never a regular expression.
 *
 * IoT Hub identity registry doc ("Device identity properties"): deviceId is "a case-sensitive
 * string (up to 128 characters long) of ASCII 7-bit alphanumeric characters plus certain
 * special characters: - . % _ * ? ! ( ) , : = @ $ '. The special characters: + # are not
 * supported." The module table of the same doc still lists `+ #`, but it also notes that
 * "the device SDKs do not support using the + and # characters in the deviceId and
 * moduleId"; both are MQTT wildcards, so Tandem refuses them for modules too.
 */
import { TandemError } from '../../errors.js';

/** IoT Hub's fixed naming rule (not a tunable bound, hence not in limits.ts). */
export const idLengthMax = 128;

const allowedChars: Uint8Array = buildAllowedTable();

function buildAllowedTable(): Uint8Array {
  const table = new Uint8Array(128);
  const ranges: Array<[string, string]> = [
    ['a', 'z'],
    ['A', 'Z'],
    ['0', '9'],
  ];
  for (const [from, to] of ranges) {
    for (let c = from.charCodeAt(0); c <= to.charCodeAt(0); c++) table[c] = 1;
  }
  for (const ch of "-.%_*?!(),:=@$'") table[ch.charCodeAt(0)] = 1;
  return table;
}

/** True when `id` follows IoT Hub's device/module id rule. */
export function isValidId(id: string): boolean {
  const n = id.length;
  if (n === 0 || n > idLengthMax) return false;
  for (let i = 0; i < n; i++) {
    const c = id.charCodeAt(i);
    if (c >= 128 || allowedChars[c] === 0) return false;
  }
  return true;
}

function describe(id: string): string {
  // Never echo a huge id back into logs: the first 64 characters are enough to find it.
  return JSON.stringify(id.length > 64 ? `${id.slice(0, 64)}...` : id);
}

function validate(kind: 'device' | 'module', id: string): string {
  if (isValidId(id)) return id;
  const why =
    id.length === 0
      ? 'is empty'
      : id.length > idLengthMax
        ? `is longer than ${idLengthMax} characters`
        : "has a character outside ASCII letters, digits and - . % _ * ? ! ( ) , : = @ $ '";
  throw new TandemError('TANDEM_E_IDENTITY_INVALID', `${kind} id ${describe(id)} ${why}`, {
    details: { kind, length: id.length },
  });
}

/** Returns `deviceId` unchanged, or throws TANDEM_E_IDENTITY_INVALID. */
export function validateDeviceId(deviceId: string): string {
  return validate('device', deviceId);
}

/** Returns `moduleId` unchanged, or throws TANDEM_E_IDENTITY_INVALID. */
export function validateModuleId(moduleId: string): string {
  return validate('module', moduleId);
}
