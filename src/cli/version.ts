// Kept in step with package.json by test/unit/tborg-options.test.ts; a constant, so --tborg-version reads no file.
export const TBORG_VERSION = '0.1.0';
