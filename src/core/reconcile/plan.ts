/** A reconcile plan: what the agent will do to make the running modules match a deployment. */

/** `update`: a change the running module does not need a restart for (restart policy, startup order). */
export type PlanAction = 'start' | 'stop' | 'restart' | 'remove' | 'update';

export interface PlanStep {
  readonly action: PlanAction;
  readonly module: string;
  /** Why, in words: "new module", "env changed", "removed from the deployment"... */
  readonly reason: string;
  /**
   * Steps of a lower group complete before the next group begins. Stops and removals are
   * group -1 (they free what they hold first); starts and restarts use the module's startupOrder.
   */
  readonly group: number;
}

export interface Plan {
  readonly steps: readonly PlanStep[];
  /** Modules that stay as they are. */
  readonly unchanged: readonly string[];
  readonly routesChanged: boolean;
}
