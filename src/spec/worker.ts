// The lifecycle every long-running worker of the control plane has (bundle builder, status,
// certificate renewals, DNS sync). Capabilities implement it; server/workers.ts lists them.
export interface Worker {
  readonly name: string;
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Called after every written change of desired state. */
  onDesiredStateChange?(): void;
}
