#!/usr/bin/env node
// Regenerates the expected outputs of the Handlebars conformance corpus with handlebars.js 4.7.
//
//   node tests/handlebars/generate.js            # writes tests/data/templates/corpus.json
//   node tests/handlebars/generate.js --check build/app/postdeskctl/postdeskctl
//                                                # also renders every case with postdeskctl and
//                                                # prints the cases whose output differs
//
// The cases are written by hand in cases.json: a name, a template, JSON data, optional partials
// ({name: source}). handlebars.js is installed with npm into a temporary directory on each run;
// Postdesk itself never needs Node. The data is stored in the corpus as JSON text, serialised by
// JSON.stringify in the order handlebars.js enumerates the keys (integer-like keys first), which
// is the order Postdesk's own JSON parser produces.
'use strict';

const fs = require('fs');
const os = require('os');
const path = require('path');
const { execFileSync, spawnSync } = require('child_process');

const here = __dirname;
const casesFile = path.join(here, 'cases.json');
const corpusFile = path.join(here, '..', 'data', 'templates', 'corpus.json');

function installHandlebars() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'postdesk-handlebars-'));
  execFileSync('npm', ['install', '--silent', '--no-audit', '--no-fund', '--prefix', dir, 'handlebars@4.7'],
               { stdio: ['ignore', 'ignore', 'inherit'] });
  return { dir, Handlebars: require(path.join(dir, 'node_modules', 'handlebars')) };
}

function render(Handlebars, c) {
  const hb = Handlebars.create();
  require('./helpers')(hb);
  for (const [name, source] of Object.entries(c.partials || {}))
    hb.registerPartial(name, source);
  try {
    return { output: hb.compile(c.template)(JSON.parse(JSON.stringify(c.data === undefined ? {} : c.data))) };
  } catch (e) {
    return { error: String(e.message).split('\n')[0] };
  }
}

function main() {
  const args = process.argv.slice(2);
  const checkIndex = args.indexOf('--check');
  const checkBinary = checkIndex >= 0 ? path.resolve(args[checkIndex + 1]) : null;
  const cases = JSON.parse(fs.readFileSync(casesFile, 'utf8'));
  const { dir, Handlebars } = installHandlebars();
  const names = new Set();
  const corpus = [];
  let failures = 0;
  try {
    for (const c of cases) {
      if (names.has(c.name)) throw new Error('duplicate case name ' + c.name);
      names.add(c.name);
      const r = render(Handlebars, c);
      const entry = {
        name: c.name,
        template: c.template,
        data: JSON.stringify(c.data === undefined ? {} : c.data),
        partials: c.partials || {},
      };
      if ('error' in r) entry.error = r.error;
      else entry.expected = r.output;
      corpus.push(entry);
      if (checkBinary) failures += check(checkBinary, entry) ? 0 : 1;
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  fs.mkdirSync(path.dirname(corpusFile), { recursive: true });
  fs.writeFileSync(corpusFile, JSON.stringify(corpus, null, 1) + '\n');
  console.log(`${corpus.length} cases written to ${path.relative(process.cwd(), corpusFile)}`);
  if (checkBinary) {
    console.log(failures ? `${failures} cases differ` : 'postdeskctl agrees on every case');
    process.exitCode = failures ? 1 : 0;
  }
}

// Renders one case with `postdeskctl render` and compares with handlebars.js.
function check(binary, entry) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'postdesk-case-'));
  try {
    fs.writeFileSync(path.join(dir, 'template.hbs'), entry.template);
    fs.writeFileSync(path.join(dir, 'data.json'), entry.data);
    const partials = path.join(dir, 'partials');
    fs.mkdirSync(partials);
    for (const [name, source] of Object.entries(entry.partials)) {
      fs.mkdirSync(path.dirname(path.join(partials, name)), { recursive: true });
      fs.writeFileSync(path.join(partials, name + '.hbs'), source);
    }
    const argv = binary.endsWith('postdeskctl') ? ['render'] : [];
    const r = spawnSync(binary, argv.concat([path.join(dir, 'template.hbs'), '--data',
                                             path.join(dir, 'data.json'), '--partials', partials]),
                        { encoding: 'utf8' });
    const ok = 'error' in entry ? r.status !== 0 : r.status === 0 && r.stdout === entry.expected;
    if (!ok) {
      console.log(`DIFF ${entry.name}\n  template: ${JSON.stringify(entry.template)}\n  expected: ` +
                  JSON.stringify('error' in entry ? 'ERROR ' + entry.error : entry.expected) +
                  `\n  actual:   ${JSON.stringify(r.status === 0 ? r.stdout : 'ERROR ' + r.stderr)}`);
    }
    return ok;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main();
