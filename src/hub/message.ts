/**
 * The hub's message: what a device or module sent, as IoT Hub models it. System properties
 * use IoT Hub's long names (messageId, correlationId, contentType, contentEncoding, userId,
 * to, absoluteExpiryTime, creationTimeUtc, connectionDeviceId, connectionModuleId,
 * outputName, inputName, enqueuedTime...). The MQTT topic codec maps them to `$.mid` etc.
 */
export interface HubMessage {
  /** Stable id for duplicate detection (G3); equals systemProperties.messageId. */
  readonly id: string;
  readonly body: Uint8Array;
  readonly systemProperties: Readonly<Record<string, string>>;
  readonly properties: Readonly<Record<string, string>>;
}

/** Where a message came from, as the route language's FROM clause sees it. */
export type MessageSource =
  | { readonly kind: 'telemetry'; readonly deviceId: string }
  | {
      readonly kind: 'module';
      readonly deviceId: string;
      readonly moduleId: string;
      readonly outputName: string;
    };

/** Where a route sends messages. */
export type Endpoint =
  | { readonly kind: 'upstream' }
  | { readonly kind: 'module'; readonly moduleId: string; readonly inputName: string };
