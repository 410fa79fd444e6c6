/**
 * Builds a function's bundle with the esbuild options serverless.yml gives serverless-esbuild, read from
 * `serverless print` so the bench cannot drift from the deployed build. The AWS SDK can be bundled or
 * left to the runtime, whatever serverless.yml says, to compare the two.
 */
import { execFile } from 'node:child_process';
import { mkdir, readFile, symlink } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { promisify } from 'node:util';
import { build, type BuildOptions } from 'esbuild';
import { z } from 'zod';
import { zip } from './zip.ts';

const run = promisify(execFile);

/** `custom.esbuild` of serverless.yml as serverless-esbuild reads it (the options this project sets). */
const serverlessEsbuildSchema = z.object({
  bundle: z.boolean(),
  minify: z.boolean().default(false),
  keepNames: z.boolean().default(false),
  sourcemap: z.boolean().default(false),
  sourcesContent: z.boolean().default(true),
  target: z.string(),
  platform: z.enum(['node', 'neutral', 'browser']),
  format: z.enum(['esm', 'cjs', 'iife']),
  outputFileExtension: z.string().default('.js'),
  mainFields: z.array(z.string()).optional(),
  banner: z.record(z.string(), z.string()).optional(),
  exclude: z.array(z.string()).default([]),
  external: z.array(z.string()).default([]),
});

export type ServerlessEsbuildOptions = z.infer<typeof serverlessEsbuildSchema>;

/** The modules the Node.js Lambda runtime provides itself. */
export const RUNTIME_AWS_SDK = '@aws-sdk/*';

/** Reads `custom.esbuild` of the project's serverless.yml, resolved by the framework (no AWS call). */
export async function readServerlessEsbuildOptions(root: string): Promise<ServerlessEsbuildOptions> {
  const bin = join(root, 'node_modules/serverless/bin/serverless.js');
  const { stdout } = await run(process.execPath, [bin, 'print', '--stage', 'dev', '--format', 'json'], {
    cwd: root,
    maxBuffer: 16 * 1024 * 1024,
  });
  const printed = z.object({ custom: z.object({ esbuild: serverlessEsbuildSchema }) }).parse(JSON.parse(stdout));
  return printed.custom.esbuild;
}

/** Whether the serverless.yml options leave the AWS SDK to the runtime. */
export function takesSdkFromRuntime(options: ServerlessEsbuildOptions): boolean {
  return [...options.exclude, ...options.external].some((m) => m === RUNTIME_AWS_SDK || m === '*');
}

export interface FunctionBundleOptions {
  readonly root: string;
  /** Handler entry relative to `root`, e.g. `handlers/api.ts`. */
  readonly entry: string;
  /** Directory the bundle is written to; created if missing. */
  readonly outDir: string;
  readonly serverless: ServerlessEsbuildOptions;
  /** `bundled`: the SDK inside the bundle; `runtime`: `@aws-sdk/*` left external, as the runtime provides it. */
  readonly awsSdk: 'bundled' | 'runtime';
  /** Changes to serverless.yml's options, to weigh an alternative build. */
  readonly overrides?: Partial<ServerlessEsbuildOptions>;
}

export interface FunctionBundle {
  /** Absolute path of the built module. */
  readonly modulePath: string;
  readonly moduleBytes: number;
  readonly sourceMapBytes: number;
  /** The deployment package: module and source map, deflate level 9. */
  readonly zipBytes: number;
  /** Bytes of the module per npm package (`@scope/name`), or `(project)` for this repository's own code. */
  readonly bytesByPackage: ReadonlyMap<string, number>;
}

/** The npm package a bundled input path belongs to (the last `node_modules/` segment), or `(project)`. */
function packageOf(input: string): string {
  const at = input.lastIndexOf('node_modules/');
  if (at < 0) return '(project)';
  const [first = '', second = ''] = input.slice(at + 'node_modules/'.length).split('/');
  return first.startsWith('@') ? `${first}/${second}` : first;
}

/** The esbuild options serverless-esbuild derives from serverless.yml, with the SDK placed as asked. */
export function esbuildOptionsFor(options: ServerlessEsbuildOptions, awsSdk: 'bundled' | 'runtime'): BuildOptions {
  const declared = [...options.external, ...options.exclude.filter((m) => m !== '*')];
  const external =
    awsSdk === 'runtime' ? [...new Set([...declared, RUNTIME_AWS_SDK])] : declared.filter((m) => m !== RUNTIME_AWS_SDK);
  return {
    bundle: options.bundle,
    minify: options.minify,
    keepNames: options.keepNames,
    sourcemap: options.sourcemap,
    sourcesContent: options.sourcesContent,
    target: options.target,
    platform: options.platform,
    format: options.format,
    ...(options.mainFields === undefined ? {} : { mainFields: options.mainFields }),
    ...(options.banner === undefined ? {} : { banner: options.banner }),
    outExtension: { '.js': options.outputFileExtension },
    external,
    logLevel: 'error',
  };
}

/** Builds one function's bundle and weighs it and its zip. */
export async function buildFunctionBundle(options: FunctionBundleOptions): Promise<FunctionBundle> {
  await mkdir(options.outDir, { recursive: true });
  const serverless = { ...options.serverless, ...options.overrides };
  const { metafile } = await build({
    ...esbuildOptionsFor(serverless, options.awsSdk),
    absWorkingDir: options.root,
    entryPoints: [options.entry],
    outdir: options.outDir,
    metafile: true,
  });
  const name = basename(options.entry).replace(/\.[^.]+$/, serverless.outputFileExtension);
  const modulePath = join(options.outDir, name);
  const moduleData = await readFile(modulePath);
  const mapData = serverless.sourcemap ? await readFile(`${modulePath}.map`) : Buffer.alloc(0);
  const entries = [
    { name, data: moduleData },
    ...(mapData.length === 0 ? [] : [{ name: `${name}.map`, data: mapData }]),
  ];
  const bytesByPackage = new Map<string, number>();
  for (const output of Object.values(metafile.outputs)) {
    for (const [input, { bytesInOutput }] of Object.entries(output.inputs)) {
      const pkg = packageOf(input);
      bytesByPackage.set(pkg, (bytesByPackage.get(pkg) ?? 0) + bytesInOutput);
    }
  }
  return {
    modulePath,
    moduleBytes: moduleData.length,
    sourceMapBytes: mapData.length,
    zipBytes: zip(entries).length,
    bytesByPackage,
  };
}

/**
 * Makes `dir` resolve bare imports from the project's node_modules, the way a function resolves
 * `@aws-sdk/*` from the runtime's own path when the SDK is not in its package.
 */
export async function linkNodeModules(dir: string, root: string): Promise<void> {
  await symlink(join(root, 'node_modules'), join(dir, 'node_modules'), 'dir');
}

/** Compiles a TypeScript script and what it imports into one plain ESM file (no type stripping at run time). */
export async function compileScript(root: string, entry: string, outFile: string): Promise<void> {
  await build({
    absWorkingDir: root,
    entryPoints: [entry],
    outfile: outFile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node24',
    packages: 'external',
    logLevel: 'error',
  });
}
