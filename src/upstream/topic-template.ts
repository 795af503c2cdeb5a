/**
 * Topic templates for the plain-MQTT upstream: literal text with placeholders
 * `{edgeDeviceId}`, `{deviceId}`, `{moduleId}` and `{outputName}`, filled per message.
 *
 * A filled value never changes the topic's shape: `/` (level separator), `+` and `#`
 * (wildcards, forbidden in a PUBLISH topic [MQTT-3.3.2-2]), `$` (a topic starting with it is
 * reserved for the server [MQTT-4.7.2-1]), control characters and `%` itself are
 * percent-encoded, so a value is always one level fragment and can be decoded back. A value
 * the message does not have (a device's telemetry has no moduleId or outputName) is empty.
 */
import { TandemError } from '../errors.js';
import { limits } from '../limits.js';

export const templateVariables = ['edgeDeviceId', 'deviceId', 'moduleId', 'outputName'] as const;
export type TemplateVariable = (typeof templateVariables)[number];

export type TemplatePart = { readonly text: string } | { readonly variable: TemplateVariable };

export interface TopicTemplate {
  readonly source: string;
  readonly parts: readonly TemplatePart[];
}

export type TemplateValues = Readonly<Partial<Record<TemplateVariable, string>>>;

export const defaultTopicTemplate = 'tandem/{edgeDeviceId}/messages';

function invalid(template: string, why: string): TandemError {
  const shown = JSON.stringify(template.length > 120 ? `${template.slice(0, 120)}...` : template);
  return new TandemError('TANDEM_E_UPSTREAM', `upstream topic template ${shown} ${why}`);
}

function isVariable(name: string): name is TemplateVariable {
  return (templateVariables as readonly string[]).includes(name);
}

/** Checks the literal parts; TANDEM_E_UPSTREAM names the first problem. */
function checkLiteral(template: string, text: string): void {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 43 || c === 35) throw invalid(template, 'contains a wildcard (+ or #)');
    if (c === 0) throw invalid(template, 'contains a NUL character');
    if (c === 125) throw invalid(template, 'has a "}" without a matching "{"');
  }
}

/** Parses a template; TANDEM_E_UPSTREAM when it could make an invalid topic. */
export function parseTopicTemplate(template: string): TopicTemplate {
  if (template.length === 0) throw invalid(template, 'is empty');
  if (Buffer.byteLength(template, 'utf8') > limits.topicBytesMax)
    throw invalid(template, `is over ${limits.topicBytesMax} bytes`);
  if (template.startsWith('$'))
    throw invalid(template, 'starts with "$", which is reserved for the broker [MQTT-4.7.2-1]');
  const parts: TemplatePart[] = [];
  let at = 0;
  while (at < template.length) {
    const open = template.indexOf('{', at);
    const end = open === -1 ? template.length : open;
    if (end > at) {
      const text = template.slice(at, end);
      checkLiteral(template, text);
      parts.push({ text });
    }
    if (open === -1) break;
    const close = template.indexOf('}', open);
    if (close === -1) throw invalid(template, 'has a "{" without a matching "}"');
    const name = template.slice(open + 1, close);
    if (!isVariable(name))
      throw invalid(template, `names {${name}}; the placeholders are {${templateVariables.join('}, {')}}`);
    parts.push({ variable: name });
    at = close + 1;
  }
  // moduleId and outputName may be empty, and an empty topic is invalid [MQTT-4.7.3-1].
  const neverEmpty = parts.some(
    (p) => 'text' in p || p.variable === 'edgeDeviceId' || p.variable === 'deviceId',
  );
  if (!neverEmpty)
    throw invalid(template, 'could make an empty topic; add text, {edgeDeviceId} or {deviceId}');
  return { source: template, parts };
}

/** Percent-encodes what would change the topic's shape (see the file comment). */
export function escapeTopicValue(value: string): string {
  let out = '';
  for (const ch of value) {
    const c = ch.codePointAt(0)!;
    const special = c === 37 || c === 47 || c === 43 || c === 35 || c === 36 || c < 32 || c === 127;
    out += special ? `%${c.toString(16).toUpperCase().padStart(2, '0')}` : ch;
  }
  return out;
}

/** The topic for one message. TANDEM_E_TOO_LARGE when the filled topic is over the limit. */
export function renderTopic(template: TopicTemplate, values: TemplateValues): string {
  let topic = '';
  for (const part of template.parts) {
    topic += 'text' in part ? part.text : escapeTopicValue(values[part.variable] ?? '');
  }
  if (Buffer.byteLength(topic, 'utf8') > limits.topicBytesMax) {
    throw new TandemError('TANDEM_E_TOO_LARGE', `upstream topic is over ${limits.topicBytesMax} bytes`, {
      details: { limit: 'topicBytesMax', max: limits.topicBytesMax },
    });
  }
  return topic;
}
