// Listeners run node's strict HTTP/1.1 parser (insecureHTTPParser: false), which already refuses
// bad header-name and header-value characters (table in validate-request.ts); the framing checks
// still run, the character scans are skipped.
import type { ValidateHeadersOptions } from './validate-request.js';

export const STRICT_PARSER: ValidateHeadersOptions = { checkCharacters: false };
