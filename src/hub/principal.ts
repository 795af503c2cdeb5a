/** An authenticated device or module, as the hub knows it for the life of a connection. */
export interface Principal {
  readonly deviceId: string;
  readonly moduleId?: string | undefined;
  /** `{device}` or `{device}/{module}`: the key of its twin, session and registry entry. */
  readonly key: string;
}

export function principalKey(deviceId: string, moduleId?: string): string {
  return moduleId ? `${deviceId}/${moduleId}` : deviceId;
}
