/** The build that loaded in this thread. */
export interface UwsBuild {
  /** '20.57' or '20.30'. */
  readonly build: string;
  /** The npm package it comes from, and that package's version. */
  readonly packageName: string;
  readonly packageVersion: string;
  /** The native binary that was loaded. */
  readonly file: string;
  /** glibc version of this process, null on musl or non-Linux. */
  readonly glibc: string | null;
}

export type UwsLoadResult =
  | { readonly loaded: true; readonly build: UwsBuild; readonly uws: unknown }
  | { readonly loaded: false; readonly message: string };

/** Loads uWS on first call (once per thread); never throws. */
export function uwsLoadResult(): UwsLoadResult;
