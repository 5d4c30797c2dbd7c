#!/usr/bin/env node
// Renders the benchmark email with handlebars.js 4.7, precompiled (Handlebars.precompile, then
// Handlebars.template), the same data, partials and helpers, and prints its rate. Called by
// bench.sh, which installs handlebars.js into a temporary directory and passes its path.
//   node bench.js HANDLEBARS_DIR TEMPLATE DATA PARTIALS_DIR N [OUTPUT_FILE]
'use strict';
const fs = require('fs');
const path = require('path');

const [handlebarsDir, templateFile, dataFile, partialsDir, count, outputFile] = process.argv.slice(2);
const Handlebars = require(path.join(handlebarsDir, 'node_modules', 'handlebars'));
const hb = Handlebars.create();

const precompiled = (source) => hb.template(new Function('return ' + hb.precompile(source))());

// The helpers the email uses, written to give the same text as Postdesk's built-ins.
const blank = (v) => v === undefined || v === null || v === '';
hb.registerHelper('default', function (value, fallback) { return blank(value) ? fallback : value; });
hb.registerHelper('uppercase', (v) => (v == null ? '' : String(v)).toUpperCase());
hb.registerHelper('truncate', (v, n, suffix) => {
  const s = v == null ? '' : String(v);
  return s.length <= n ? s : s.substring(0, n) + (typeof suffix === 'string' ? suffix : '');
});
hb.registerHelper('formatCurrency', (value) => {
  const n = Number(value);
  return (n < 0 ? '-$' : '$') + Math.abs(n).toFixed(2).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
});
const months = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August',
                'September', 'October', 'November', 'December'];
const days = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
hb.registerHelper('formatDate', function (value, pattern, offset) {
  let minutes = 0;
  if (typeof offset === 'string' && /^[+-]\d{4}$/.test(offset))
    minutes = (offset[0] === '-' ? -1 : 1) * (Number(offset.substr(1, 2)) * 60 + Number(offset.substr(3, 2)));
  const d = new Date(new Date(value).getTime() + minutes * 60000);
  const two = (n) => String(n).padStart(2, '0');
  const h12 = d.getUTCHours() % 12 === 0 ? 12 : d.getUTCHours() % 12;
  const tokens = { YYYY: d.getUTCFullYear(), MMMM: months[d.getUTCMonth()], MMM: months[d.getUTCMonth()].substr(0, 3),
                   MM: two(d.getUTCMonth() + 1), M: d.getUTCMonth() + 1, DD: two(d.getUTCDate()), D: d.getUTCDate(),
                   dddd: days[d.getUTCDay()], ddd: days[d.getUTCDay()].substr(0, 3), HH: two(d.getUTCHours()),
                   H: d.getUTCHours(), hh: two(h12), h: h12, mm: two(d.getUTCMinutes()), m: d.getUTCMinutes(),
                   ss: two(d.getUTCSeconds()), s: d.getUTCSeconds(), A: d.getUTCHours() < 12 ? 'AM' : 'PM' };
  return pattern.replace(/\[([^\]]*)\]|YYYY|MMMM|MMM|MM|M|DD|D|dddd|ddd|HH|H|hh|h|mm|m|ss|s|A/g,
                         (t, literal) => (literal !== undefined ? literal : String(tokens[t])));
});

for (const file of fs.readdirSync(partialsDir))
  hb.registerPartial(path.parse(file).name, precompiled(fs.readFileSync(path.join(partialsDir, file), 'utf8')));
const template = precompiled(fs.readFileSync(templateFile, 'utf8'));
const data = JSON.parse(fs.readFileSync(dataFile, 'utf8'));

const n = Number(count);
let output = template(data);
for (let i = 0; i < Math.min(n, 2000); ++i) template(data); // warm up the JIT
const start = process.hrtime.bigint();
let bytes = 0;
for (let i = 0; i < n; ++i) bytes += template(data).length;
const seconds = Number(process.hrtime.bigint() - start) / 1e9;
if (outputFile) fs.writeFileSync(outputFile, output);
console.log(`${n} renders in ${seconds.toFixed(3)} s (${Math.round(n / seconds)} renders/s)`);
