// JavaScript versions of Postdesk's own helpers (core/templates/builtinhelpers.cpp), registered on
// handlebars.js when generating expected outputs, so that the corpus compares the language itself.
// formatDate, formatNumber and formatCurrency are not here: their output is checked by
// tst_templaterender against values written by hand.
'use strict';

function isBlank(v) {
  return v === undefined || v === null || v === '';
}

function lessThan(a, b, orEqual) {
  return orEqual ? a <= b : a < b;
}

module.exports = function register(Handlebars) {
  const blockOrValue = function (context, options, condition) {
    if (!options.fn) return condition;
    return condition ? options.fn(context) : options.inverse(context);
  };
  const args = function (all) {
    return Array.prototype.slice.call(all, 0, all.length - 1);
  };
  Handlebars.registerHelper('raw', function (options) {
    if (!options.fn) return this != null ? this.raw : undefined;
    return options.fn(this);
  });
  Handlebars.registerHelper('eq', function () { return blockOrValue(this, arguments[arguments.length - 1], args(arguments)[0] === args(arguments)[1]); });
  Handlebars.registerHelper('ne', function () { const p = args(arguments); return blockOrValue(this, arguments[arguments.length - 1], p[0] !== p[1]); });
  Handlebars.registerHelper('gt', function () { const p = args(arguments); return blockOrValue(this, arguments[arguments.length - 1], lessThan(p[1], p[0], false)); });
  Handlebars.registerHelper('gte', function () { const p = args(arguments); return blockOrValue(this, arguments[arguments.length - 1], lessThan(p[1], p[0], true)); });
  Handlebars.registerHelper('lt', function () { const p = args(arguments); return blockOrValue(this, arguments[arguments.length - 1], lessThan(p[0], p[1], false)); });
  Handlebars.registerHelper('lte', function () { const p = args(arguments); return blockOrValue(this, arguments[arguments.length - 1], lessThan(p[0], p[1], true)); });
  Handlebars.registerHelper('equals', function () { const p = args(arguments); return blockOrValue(this, arguments[arguments.length - 1], p[0] == p[1]); });
  Handlebars.registerHelper('notEquals', function () { const p = args(arguments); return blockOrValue(this, arguments[arguments.length - 1], p[0] != p[1]); });
  Handlebars.registerHelper('greaterThan', function () { const p = args(arguments); return blockOrValue(this, arguments[arguments.length - 1], lessThan(p[1], p[0], false)); });
  Handlebars.registerHelper('lessThan', function () { const p = args(arguments); return blockOrValue(this, arguments[arguments.length - 1], lessThan(p[0], p[1], false)); });
  Handlebars.registerHelper('and', function () { const p = args(arguments); return blockOrValue(this, arguments[arguments.length - 1], p.length > 0 && p.every(Boolean)); });
  Handlebars.registerHelper('or', function () { const p = args(arguments); return blockOrValue(this, arguments[arguments.length - 1], p.some(Boolean)); });
  Handlebars.registerHelper('not', function () { const p = args(arguments); return blockOrValue(this, arguments[arguments.length - 1], !p[0]); });
  Handlebars.registerHelper('default', function () {
    const p = args(arguments);
    for (const v of p) if (!isBlank(v)) return v;
    return p.length ? p[p.length - 1] : undefined;
  });
  Handlebars.registerHelper('insert', function () {
    const p = args(arguments), options = arguments[arguments.length - 1];
    if (!isBlank(p[0])) return p[0];
    const spec = String(p[1]);
    if (spec.startsWith('default=')) return spec.substring(8);
    if (options.hash && 'default' in options.hash) return options.hash['default'];
    return '';
  });
  const text = (v) => (v === undefined || v === null ? '' : String(v));
  Handlebars.registerHelper('uppercase', function () { return text(args(arguments)[0]).toUpperCase(); });
  Handlebars.registerHelper('lowercase', function () { return text(args(arguments)[0]).toLowerCase(); });
  Handlebars.registerHelper('capitalize', function () {
    const s = text(args(arguments)[0]);
    if (!s) return s;
    const n = s.codePointAt(0) > 0xffff ? 2 : 1;
    return s.substring(0, n).toUpperCase() + s.substring(n);
  });
  Handlebars.registerHelper('truncate', function () {
    const [v, n, suffix] = args(arguments);
    const s = text(v), limit = Number(n);
    if (isNaN(limit) || limit < 0 || s.length <= limit) return s;
    return s.substring(0, limit) + text(suffix);
  });
  Handlebars.registerHelper('length', function () {
    const v = args(arguments)[0];
    if (Array.isArray(v) || typeof v === 'string') return v.length;
    if (v && typeof v === 'object') return Object.keys(v).length;
    return 0;
  });
  Handlebars.registerHelper('join', function () {
    const p = args(arguments), v = p[0];
    if (!Array.isArray(v)) return text(v);
    return v.join(p.length > 1 ? String(p[1]) : ',');
  });
};
