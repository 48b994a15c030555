// Builds the CommonJS file WeChat's devtools and "build npm" take (dist/index.js) and the example's copy of it
// (example/lib/miniclient.js), both from index.mjs. Both are committed, so that the example opens as it is;
// `node build.mjs --check` fails when either differs from a fresh build, `--size` prints the minified size.
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { buildSync } from 'esbuild';

const here = (path) => fileURLToPath(new URL(path, import.meta.url));
export const OUTPUTS = [here('dist/index.js'), here('example/lib/miniclient.js')];
const BANNER = '// Built from index.mjs by build.mjs (npm run build): edit index.mjs, not this file.';

function bundle(minify) {
  const result = buildSync({
    entryPoints: [here('index.mjs')],
    bundle: false,
    write: false,
    format: 'cjs',
    target: 'es2017', // async functions yes, object spread and ?. no: every base library runs it untranspiled
    minify,
    banner: minify ? undefined : { js: BANNER },
    logLevel: 'silent',
  });
  return result.outputFiles[0].text;
}

/** The CommonJS build, and the minified one's size in bytes, plain and gzipped. */
export function build() {
  const minified = bundle(true);
  return { cjs: bundle(false), minified: minified.length, gzipped: gzipSync(minified, { level: 9 }).length };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { cjs, minified, gzipped } = build();
  if (process.argv.includes('--check')) {
    const stale = OUTPUTS.filter((path) => readFileSync(path, 'utf8') !== cjs);
    if (stale.length) {
      console.error(`stale build: ${stale.join(', ')}; run npm run build`);
      process.exit(1);
    }
  } else if (!process.argv.includes('--size')) {
    for (const path of OUTPUTS) writeFileSync(path, cjs);
  }
  console.log(`minified ${minified} bytes, gzipped ${gzipped} bytes`);
}
