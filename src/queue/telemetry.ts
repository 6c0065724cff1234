/**
 * BullMQ's OpenTelemetry spans (bullmq-otel), for when Deno's built-in OpenTelemetry is on
 * (`OTEL_DENO=true`): Deno then provides the `@opentelemetry/api` tracer and exports the spans,
 * so a job's producer span (intake) and consumer span (worker) join the HTTP request's trace.
 */
import type { Telemetry } from "bullmq";
import { BullMQOtel } from "bullmq-otel";

/** The tracer name our BullMQ spans carry. */
export const TELEMETRY_NAME = "ionos-idp-sync";

/**
 * Telemetry for Queue and Worker options, or undefined when tracing is off (no overhead).
 *
 * @example
 * new Queue(name, { connection, ...telemetryOption(Deno.env.get("OTEL_DENO") === "true") });
 */
export function telemetryOption(enabled: boolean): { telemetry?: Telemetry } {
  return enabled
    ? { telemetry: new BullMQOtel({ tracerName: TELEMETRY_NAME }) as unknown as Telemetry }
    : {};
}
