/**
 * Keys a file must not contain: parsers keep `__proto__` as an ordinary key, but any code that
 * later copies or merges the object may set a prototype from it (prototype pollution).
 * `constructor.prototype` is refused for the same reason, as the model server's JSON parser does.
 */
export function findForbiddenKey(value: unknown, path: PropertyKey[] = []): { key: string; path: PropertyKey[] } | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  for (const [key, item] of Object.entries(value)) {
    if (key === '__proto__') return { key, path };
    if (key === 'constructor' && typeof item === 'object' && item !== null && Object.hasOwn(item, 'prototype'))
      return { key: 'constructor.prototype', path };
    const inner = findForbiddenKey(item, [...path, key]);
    if (inner) return inner;
  }
  return undefined;
}

/** 'forbidden key "__proto__" in rows.3' */
export function describeForbiddenKey({ key, path }: { key: string; path: PropertyKey[] }, where: string): string {
  return `forbidden key "${key}" ${path.length ? `at ${path.map(String).join('.')} ` : ''}in ${where}`;
}
