// Types for scripts/before-pack.mjs, so the unit test can import its check.

export declare const NATIVE_DIR: string;

export declare function nativeBuildProblem(options: {
  root: string;
  electron: string;
  platform: string;
  arch: string;
}): string | null;

export default function beforePack(context: unknown): Promise<void>;
