// Builds caniemail.json from the caniemail package: for the features Postdesk can detect in a
// rendered HTML email, how to detect them and whether the common clients support them.
// Usage: node extract.mjs PACKAGE_DIR > caniemail.json
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const pkgDir = process.argv[2];
const pkg = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8'));
const data = JSON.parse(readFileSync(join(pkgDir, 'data', 'caniemail.json'), 'utf8'));

// How each feature shows in HTML. The data set describes features in prose; this mapping is ours.
// kinds: css-property (declared anywhere), css-value (property: value), css-function (name(),
// anywhere in CSS), css-at-rule (@name in a <style> block), css-pseudo (:name in a <style> block),
// html-element (<name>), html-attribute (name= on any element), image-extension (img src).
const detect = {
  'css-display-flex': { kind: 'css-value', names: ['display:flex', 'display:inline-flex'] },
  'css-display-grid': { kind: 'css-value', names: ['display:grid', 'display:inline-grid'] },
  'css-display-none': { kind: 'css-value', names: ['display:none'] },
  'css-position': { kind: 'css-property', names: ['position'] },
  'css-float': { kind: 'css-property', names: ['float'] },
  'css-box-shadow': { kind: 'css-property', names: ['box-shadow'] },
  'css-background-image': { kind: 'css-property', names: ['background-image'] },
  'css-background-size': { kind: 'css-property', names: ['background-size'] },
  'css-background-position': { kind: 'css-property', names: ['background-position'] },
  'css-border-radius': { kind: 'css-property', names: ['border-radius'] },
  'css-border-image': { kind: 'css-property', names: ['border-image'] },
  'css-margin': { kind: 'css-property', names: ['margin', 'margin-top', 'margin-right', 'margin-bottom', 'margin-left'] },
  'css-max-width': { kind: 'css-property', names: ['max-width'] },
  'css-min-width': { kind: 'css-property', names: ['min-width'] },
  'css-max-height': { kind: 'css-property', names: ['max-height'] },
  'css-min-height': { kind: 'css-property', names: ['min-height'] },
  'css-opacity': { kind: 'css-property', names: ['opacity'] },
  'css-transform': { kind: 'css-property', names: ['transform'] },
  'css-transition': { kind: 'css-property', names: ['transition'] },
  'css-animation': { kind: 'css-property', names: ['animation', 'animation-name'] },
  'css-flex-direction': { kind: 'css-property', names: ['flex-direction'] },
  'css-flex-wrap': { kind: 'css-property', names: ['flex-wrap'] },
  'css-justify-content': { kind: 'css-property', names: ['justify-content'] },
  'css-align-items': { kind: 'css-property', names: ['align-items'] },
  'css-gap': { kind: 'css-property', names: ['gap', 'row-gap', 'column-gap'] },
  'css-grid-template': { kind: 'css-property', names: ['grid-template', 'grid-template-columns', 'grid-template-rows', 'grid-template-areas'] },
  'css-object-fit': { kind: 'css-property', names: ['object-fit'] },
  'css-text-shadow': { kind: 'css-property', names: ['text-shadow'] },
  'css-filter': { kind: 'css-property', names: ['filter'] },
  'css-backdrop-filter': { kind: 'css-property', names: ['backdrop-filter'] },
  'css-clip-path': { kind: 'css-property', names: ['clip-path'] },
  'css-mix-blend-mode': { kind: 'css-property', names: ['mix-blend-mode'] },
  'css-aspect-ratio': { kind: 'css-property', names: ['aspect-ratio'] },
  'css-column-count': { kind: 'css-property', names: ['column-count'] },
  'css-z-index': { kind: 'css-property', names: ['z-index'] },
  'css-variables': { kind: 'css-function', names: ['var'] },
  'css-function-clamp': { kind: 'css-function', names: ['clamp'] },
  'css-function-min': { kind: 'css-function', names: ['min'] },
  'css-function-max': { kind: 'css-function', names: ['max'] },
  'css-unit-calc': { kind: 'css-function', names: ['calc'] },
  'css-linear-gradient': { kind: 'css-function', names: ['linear-gradient'] },
  'css-radial-gradient': { kind: 'css-function', names: ['radial-gradient'] },
  'css-at-media': { kind: 'css-at-rule', names: ['media'] },
  'css-at-font-face': { kind: 'css-at-rule', names: ['font-face'] },
  'css-at-import': { kind: 'css-at-rule', names: ['import'] },
  'css-at-keyframes': { kind: 'css-at-rule', names: ['keyframes'] },
  'css-at-supports': { kind: 'css-at-rule', names: ['supports'] },
  'css-pseudo-class-hover': { kind: 'css-pseudo', names: ['hover'] },
  'css-pseudo-element-before': { kind: 'css-pseudo', names: ['before'] },
  'css-pseudo-element-after': { kind: 'css-pseudo', names: ['after'] },
  'html-form': { kind: 'html-element', names: ['form'] },
  'html-input-text': { kind: 'html-element', names: ['input'] },
  'html-select': { kind: 'html-element', names: ['select'] },
  'html-textarea': { kind: 'html-element', names: ['textarea'] },
  'html-video': { kind: 'html-element', names: ['video'] },
  'html-audio': { kind: 'html-element', names: ['audio'] },
  'html-svg': { kind: 'html-element', names: ['svg'] },
  'html-picture': { kind: 'html-element', names: ['picture'] },
  'html-object': { kind: 'html-element', names: ['object'] },
  'html-marquee': { kind: 'html-element', names: ['marquee'] },
  'html-dialog': { kind: 'html-element', names: ['dialog'] },
  'html-progress': { kind: 'html-element', names: ['progress'] },
  'html-meter': { kind: 'html-element', names: ['meter'] },
  'html-base': { kind: 'html-element', names: ['base'] },
  'html-link': { kind: 'html-element', names: ['link'] },
  'html-srcset': { kind: 'html-attribute', names: ['srcset'] },
  'html-loading-attribute': { kind: 'html-attribute', names: ['loading'] },
  'image-svg': { kind: 'image-extension', names: ['svg'] },
  'image-webp': { kind: 'image-extension', names: ['webp'] },
  'image-avif': { kind: 'image-extension', names: ['avif'] },
  'image-heif': { kind: 'image-extension', names: ['heif', 'heic'] },
  'image-tiff': { kind: 'image-extension', names: ['tif', 'tiff'] },
  'image-bmp': { kind: 'image-extension', names: ['bmp'] },
};

// The clients the checks report on: [our key, family, platform, label].
const clients = [
  ['gmail', 'gmail', 'desktop-webmail', 'Gmail'],
  ['outlook-windows', 'outlook', 'windows', 'Outlook (Windows)'],
  ['apple-mail', 'apple-mail', 'macos', 'Apple Mail'],
  ['yahoo', 'yahoo', 'desktop-webmail', 'Yahoo Mail'],
];

// The newest tested version's verdict: y (yes), a (partial), n (no), u (unknown).
function verdict(stats, family, platform) {
  const versions = stats?.[family]?.[platform];
  if (!versions) return 'u';
  const keys = Object.keys(versions);
  if (keys.length === 0) return 'u';
  const value = String(versions[keys[keys.length - 1]]).trim();
  return ['y', 'a', 'n'].includes(value[0]) ? value[0] : 'u';
}

const features = [];
for (const feature of data.data) {
  const how = detect[feature.slug];
  if (!how) continue;
  const support = {};
  for (const [key, family, platform] of clients) support[key] = verdict(feature.stats, family, platform);
  features.push({ slug: feature.slug, title: feature.title, url: feature.url, kind: how.kind, names: how.names, support });
}
const missing = Object.keys(detect).filter((slug) => !features.some((f) => f.slug === slug));
if (missing.length) {
  console.error(`not in the data set: ${missing.join(', ')}`);
  process.exit(1);
}
features.sort((a, b) => a.slug.localeCompare(b.slug));
const out = {
  source: 'https://www.caniemail.com',
  package: `caniemail@${pkg.version}`,
  license: 'MIT',
  last_update_date: data.last_update_date,
  clients: Object.fromEntries(clients.map(([key, , , label]) => [key, label])),
  features,
};
process.stdout.write(JSON.stringify(out, null, 1) + '\n');
