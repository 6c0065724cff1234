/**
 * IONOS Cloud API v6 User Management simulator: public entry point.
 * @module
 */
export { createIonosSimulator, type IonosSimulator } from "./app.ts";
export { type RunningSimulator, type ServeOptions, startIonosSimulator } from "./server.ts";
export type { SimulatorOptions } from "./options.ts";
export {
  type DurationDistribution,
  type RequestTiming,
  TIMING_PROFILES,
  type TimingProfile,
} from "./duration.ts";
export type { FaultKind, Faults } from "../../simulator/faults.ts";
export type { CallRecord, SimulatorStats } from "./calls.ts";
export { type GroupInput, SimState, type SimUser, type UserInput } from "./state.ts";
export { API_BASE } from "./um_routes.ts";
export {
  RESOURCE_TYPES,
  type ResourceType,
  SimAccess,
  type SimResource,
  type SimS3Key,
  type SimShare,
} from "./access_state.ts";
