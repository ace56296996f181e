/**
 * Open Inference Protocol request bodies into rows, and served predictions into output tensors,
 * as JSON or with the binary tensor data extension: a body whose first
 * `Inference-Header-Content-Length` bytes are the JSON request, followed by the raw data of the
 * inputs whose `binary_data_size` parameter says how many bytes are theirs, in input order.
 * Numbers are little-endian; a BYTES element is a 4-byte little-endian length and its bytes.
 */
import { z } from 'zod';
import { formatIssues } from '../../core/spec.ts';
import { InvalidRequestError } from '../../core/errors.ts';
import { MAX_ROWS, type Row, type Scalar } from '../rows.ts';
import { ACCEPTED_DATATYPES, type Datatype, type FeatureInput } from './metadata.ts';

const Parameters = z.record(z.string(), z.union([z.string(), z.number(), z.boolean()]));
type Parameters = z.infer<typeof Parameters>;

const InputTensor = z.object({
  name: z.string(),
  shape: z.array(z.number().int().nonnegative()),
  datatype: z.string(),
  parameters: Parameters.optional(),
  data: z.unknown().optional(),
});
type InputTensor = z.infer<typeof InputTensor>;

export const InferRequest = z.object({
  id: z.string().optional(),
  parameters: Parameters.optional(),
  inputs: z.array(InputTensor).min(1, 'send at least one input'),
  outputs: z.array(z.object({ name: z.string(), parameters: Parameters.optional() })).optional(),
});
export type InferRequest = z.infer<typeof InferRequest>;

/** Splits a body into the JSON request and the binary data after it (empty without the extension). */
export function parseBody(body: unknown, headerLength: string | string[] | undefined): { request: InferRequest; binary: Buffer } {
  const bytes = Buffer.isBuffer(body) ? body : Buffer.alloc(0);
  let jsonLength = bytes.length;
  if (headerLength !== undefined) {
    jsonLength = Number(headerLength);
    if (!Number.isInteger(jsonLength) || jsonLength < 1 || jsonLength > bytes.length)
      throw new InvalidRequestError(
        `Inference-Header-Content-Length must be the length of the JSON part of the body (1 to ${bytes.length} bytes), not ${JSON.stringify(headerLength)}`,
      );
  }
  if (jsonLength === 0) throw new InvalidRequestError('send an inference request: {"inputs": [...]}');
  let json: unknown;
  try {
    json = JSON.parse(bytes.subarray(0, jsonLength).toString('utf8'));
  } catch (err) {
    throw new InvalidRequestError(`the inference request is not valid JSON: ${(err as Error).message}`);
  }
  const parsed = InferRequest.safeParse(json);
  if (!parsed.success) throw new InvalidRequestError(`invalid inference request:\n${formatIssues(parsed.error)}`);
  return { request: parsed.data, binary: bytes.subarray(jsonLength) };
}

/**
 * One row per element of the inputs, keyed by feature. Every feature must be sent, each as a
 * one-dimensional tensor of the same length, of a datatype its kind takes. Missing values (NaN,
 * null, an empty string) become null, as in /v1.
 */
export function rowsFromInputs(inputs: InputTensor[], features: FeatureInput[], binary: Buffer): Row[] {
  const problems: string[] = [];
  const byName = new Map(features.map((f) => [f.name, f]));
  const sent = new Set<string>();
  for (const input of inputs) {
    if (!byName.has(input.name)) problems.push(`input "${input.name}" is not a feature of the model`);
    else if (sent.has(input.name)) problems.push(`input "${input.name}" is sent twice`);
    sent.add(input.name);
  }
  const missing = features.filter((f) => !sent.has(f.name)).map((f) => f.name);
  if (missing.length)
    problems.push(`missing inputs: ${missing.join(', ')} (every feature is an input; send NaN or null for unknown values)`);
  // Every input must match the first one's rows.
  const rowCount = inputs[0].shape[0] ?? 0;
  const columns = new Map<string, Scalar[]>();
  let offset = 0;
  for (const input of inputs) {
    const feature = byName.get(input.name);
    if (!feature) continue;
    try {
      const size = binarySize(input);
      const chunk = size === undefined ? undefined : binary.subarray(offset, offset + size);
      if (size !== undefined) {
        if (offset + size > binary.length) throw new Error(`binary_data_size ${size} is past the end of the body's binary data`);
        offset += size;
      }
      columns.set(input.name, decodeInput(input, feature, rowCount, inputs[0].name, chunk));
    } catch (err) {
      problems.push(`input "${input.name}": ${(err as Error).message}`);
    }
  }
  if (!problems.length && offset !== binary.length)
    problems.push(`the body has ${binary.length - offset} bytes of binary data that no input's binary_data_size accounts for`);
  if (problems.length) throw new InvalidRequestError(`invalid inference request:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  return Array.from({ length: rowCount }, (_, i) => Object.fromEntries(features.map((f) => [f.name, columns.get(f.name)![i]])));
}

function binarySize(input: InputTensor): number | undefined {
  const size = input.parameters?.binary_data_size;
  if (size === undefined) return undefined;
  if (typeof size !== 'number' || !Number.isInteger(size) || size < 0) throw new Error('binary_data_size must be a whole number of bytes');
  if (input.data !== undefined) throw new Error('send either data or binary_data_size, not both');
  return size;
}

function decodeInput(input: InputTensor, feature: FeatureInput, rowCount: number, first: string, binary: Buffer | undefined): Scalar[] {
  const accepted = ACCEPTED_DATATYPES[feature.kind];
  if (!accepted.includes(input.datatype as Datatype))
    throw new Error(`datatype ${input.datatype}, but ${feature.name} is a ${feature.kind} feature: send ${accepted.join(' or ')}`);
  if (input.shape.length !== 1)
    throw new Error(`shape ${JSON.stringify(input.shape)}, but an input has one value per row: shape [N] for N rows`);
  if (input.shape[0] !== rowCount)
    throw new Error(`shape ${JSON.stringify(input.shape)}, but input "${first}" has ${rowCount} rows: every input has one value per row`);
  if (rowCount < 1 || rowCount > MAX_ROWS) throw new Error(`send 1 to ${MAX_ROWS} rows, not ${rowCount}`);
  const values = binary ? decodeBinary(binary, input.datatype as Datatype, rowCount) : decodeJson(input.data, feature, rowCount);
  return values.map((v) => (v === '' || (typeof v === 'number' && Number.isNaN(v)) ? null : v));
}

function decodeJson(data: unknown, feature: FeatureInput, rowCount: number): Scalar[] {
  if (!Array.isArray(data)) throw new Error('data must be an array (or send binary_data_size with the binary tensor data extension)');
  // The protocol allows nested data; row-major flattening gives the same elements for [N].
  const values = data.flat(Infinity);
  if (values.length !== rowCount) throw new Error(`${values.length} data elements for shape [${rowCount}]`);
  const expected = feature.kind === 'number' ? 'number' : 'string';
  const wrong = values.findIndex((v) => v !== null && typeof v !== expected);
  if (wrong >= 0) throw new Error(`data element ${wrong} is ${JSON.stringify(values[wrong])}, not a ${expected} (or null)`);
  return values as Scalar[];
}

function decodeBinary(bytes: Buffer, datatype: Datatype, rowCount: number): Scalar[] {
  if (datatype === 'BYTES') return decodeBytesElements(bytes, rowCount);
  const width = datatype === 'FP32' ? 4 : 8;
  if (bytes.length !== rowCount * width)
    throw new Error(`binary_data_size ${bytes.length}, but shape [${rowCount}] of ${datatype} is ${rowCount * width} bytes`);
  return Array.from({ length: rowCount }, (_, i) => (width === 4 ? bytes.readFloatLE(i * 4) : bytes.readDoubleLE(i * 8)));
}

function decodeBytesElements(bytes: Buffer, rowCount: number): string[] {
  const values: string[] = [];
  let at = 0;
  while (at < bytes.length) {
    if (at + 4 > bytes.length) throw new Error('binary BYTES data ends inside an element length');
    const length = bytes.readUInt32LE(at);
    if (at + 4 + length > bytes.length) throw new Error(`binary BYTES element ${values.length} runs past its binary_data_size`);
    values.push(bytes.toString('utf8', at + 4, at + 4 + length));
    at += 4 + length;
  }
  if (values.length !== rowCount) throw new Error(`${values.length} BYTES elements for shape [${rowCount}]`);
  return values;
}

/** An output tensor before encoding: the elements, flattened row-major. */
export interface OutputTensor {
  name: string;
  datatype: Datatype;
  shape: number[];
  values: number[] | string[];
  parameters?: Record<string, string>;
}

/**
 * The response body: JSON alone, or (when any output is wanted binary) the JSON header followed by
 * the binary outputs' data, whose length the caller sends as Inference-Header-Content-Length.
 */
export function encodeOutputs(
  head: Record<string, unknown>,
  outputs: Array<OutputTensor & { binary: boolean }>,
): { json: Record<string, unknown> } | { body: Buffer; headerLength: number } {
  const chunks: Buffer[] = [];
  const encoded = outputs.map(({ binary, values, parameters, ...tensor }) => {
    if (!binary) return { ...tensor, ...(parameters ? { parameters } : {}), data: values };
    const chunk = encodeBinary(values, tensor.datatype);
    chunks.push(chunk);
    return { ...tensor, parameters: { ...parameters, binary_data_size: chunk.length } };
  });
  const json = { ...head, outputs: encoded };
  if (!chunks.length) return { json };
  const header = Buffer.from(JSON.stringify(json), 'utf8');
  return { body: Buffer.concat([header, ...chunks]), headerLength: header.length };
}

function encodeBinary(values: number[] | string[], datatype: Datatype): Buffer {
  if (datatype === 'BYTES') {
    return Buffer.concat(
      (values as string[]).flatMap((v) => {
        const text = Buffer.from(v, 'utf8');
        const length = Buffer.alloc(4);
        length.writeUInt32LE(text.length);
        return [length, text];
      }),
    );
  }
  const width = datatype === 'FP32' ? 4 : 8;
  const bytes = Buffer.alloc(values.length * width);
  (values as number[]).forEach((v, i) => (width === 4 ? bytes.writeFloatLE(v, i * 4) : bytes.writeDoubleLE(v, i * 8)));
  return bytes;
}

/** Whether an output goes binary: its own `binary_data` parameter, else the request's `binary_data_output`. */
export function wantsBinary(request: InferRequest, output: { parameters?: Parameters } | undefined): boolean {
  const own = output?.parameters?.binary_data;
  if (typeof own === 'boolean') return own;
  return request.parameters?.binary_data_output === true;
}
