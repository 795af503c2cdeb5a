/** Small deployment manifests for API and CLI tests: schema 1.1 with process modules. */

export function testManifest(
  modules: Record<string, unknown>,
  routes: Record<string, string> = { up: 'FROM /messages/* INTO $upstream' },
): Record<string, unknown> {
  return {
    modulesContent: {
      $edgeAgent: {
        'properties.desired': {
          schemaVersion: '1.1',
          runtime: { type: 'docker', settings: {} },
          systemModules: {
            edgeAgent: { type: 'docker', settings: { image: 'mcr.microsoft.com/azureiotedge-agent:1.5' } },
            edgeHub: {
              type: 'docker',
              status: 'running',
              restartPolicy: 'always',
              settings: { image: 'mcr.microsoft.com/azureiotedge-hub:1.5' },
            },
          },
          modules,
        },
      },
      $edgeHub: { 'properties.desired': { schemaVersion: '1.1', routes } },
    },
  };
}

export function processModule(command: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { type: 'process', status: 'running', restartPolicy: 'always', settings: { command }, ...extra };
}
