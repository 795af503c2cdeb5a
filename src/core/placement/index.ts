/** The placement/headroom planner: a pure core (no I/O, no clock). */
export * from './explain.js';
export * from './headroom.js';
export * from './model.js';
export * from './place.js';
export * from './schedule.js';
export * from './workloads.js';
