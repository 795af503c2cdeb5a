/**
 * One live session per identity across a cluster (IoT Hub allows one connection per
 * device or module). Each replica enforces it locally (session-registry.ts); the directory
 * makes the newest session win across replicas: a replica that claims an identity causes
 * every other replica to close its session of that identity (Hub.sessionClaimed).
 */
export interface SessionDirectory {
  /** Records `sessionId` as the live session of `identity`, durably; resolves once recorded. */
  claim(identity: string, sessionId: string): Promise<void>;
}
