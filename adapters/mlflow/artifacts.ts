/** Run artifacts, through the MLflow server's artifact proxy (mlflow server --serve-artifacts). MlflowClient's methods of the same names. */
import { z } from 'zod';
import type { MlflowHttp } from './http.ts';
import type { ArtifactEntry } from './schemas.ts';

export async function uploadArtifact(
  http: MlflowHttp,
  artifactUri: string,
  path: string,
  body: Uint8Array | string,
  contentType = 'application/octet-stream',
): Promise<void> {
  const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  await http.send('PUT', artifactEndpoint(artifactUri, path), { body: bytes, contentType });
}

export async function downloadArtifact(http: MlflowHttp, artifactUri: string, path: string): Promise<Uint8Array> {
  return new Uint8Array(await http.send('GET', artifactEndpoint(artifactUri, path)));
}

export async function listArtifacts(http: MlflowHttp, artifactUri: string, path = ''): Promise<ArtifactEntry[]> {
  const Listing = z.object({
    files: z.array(z.object({ path: z.string(), is_dir: z.boolean().default(false), file_size: z.number().optional() })).default([]),
  });
  const dir = pathSegments(path);
  const { files } = await http.json(Listing, 'GET', '/mlflow-artifacts/artifacts', {
    query: { path: [...artifactRoot(artifactUri), ...dir].join('/') },
  });
  // The proxy answers with bare names; callers want paths they can download.
  return files.map((file) => ({ path: [...dir, file.path].join('/'), isDir: file.is_dir, size: file.file_size }));
}

/** `mlflow-artifacts:/1/<run>/artifacts` -> ['1', '<run>', 'artifacts'], its place on the artifact proxy. */
function artifactRoot(artifactUri: string): string[] {
  // An authority (`mlflow-artifacts://host/...`) names the server that proxies; this client talks to its own baseUrl.
  const match = /^mlflow-artifacts:(?:\/\/[^/]*)?\/(.*)$/.exec(artifactUri);
  if (!match) throw new Error(`artifact URI "${artifactUri}" is not served by MLflow's artifact proxy (mlflow server --serve-artifacts)`);
  return pathSegments(match[1]);
}

/** The artifact proxy refuses these with a bare "Invalid path". */
function pathSegments(path: string): string[] {
  const segments = path.split('/').filter((segment) => segment !== '');
  if (segments.some((segment) => segment === '.' || segment === '..'))
    throw new Error(`artifact path "${path}" must not contain "." or ".." segments`);
  if (path.includes('#')) throw new Error(`artifact path "${path}" must not contain "#"`);
  return segments;
}

function artifactEndpoint(artifactUri: string, path: string): string {
  const segments = [...artifactRoot(artifactUri), ...pathSegments(path)];
  return `/mlflow-artifacts/artifacts/${segments.map(encodeURIComponent).join('/')}`;
}
