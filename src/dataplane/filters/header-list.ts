// Operations on flat header lists [name, value, name, value, ...], names compared case-insensitively.

/** Case-insensitive name equality; the length check first, so most names are never lower-cased (no allocation). */
function sameName(name: string, lowerName: string): boolean {
  return name.length === lowerName.length && (name === lowerName || name.toLowerCase() === lowerName);
}

export function removeHeader(headers: string[], lowerName: string): void {
  let w = 0;
  for (let r = 0; r < headers.length; r += 2) {
    if (sameName(headers[r]!, lowerName)) continue;
    headers[w] = headers[r]!;
    headers[w + 1] = headers[r + 1]!;
    w += 2;
  }
  headers.length = w;
}

export function getHeader(headers: readonly string[], lowerName: string): string | undefined {
  for (let i = 0; i < headers.length; i += 2) {
    if (sameName(headers[i]!, lowerName)) return headers[i + 1];
  }
  return undefined;
}

export function setHeader(headers: string[], name: string, value: string): void {
  removeHeader(headers, name.toLowerCase());
  headers.push(name, value);
}
