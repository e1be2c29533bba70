/* SciApps launch parameters in the browser: the same rules, and the same sentences, as
 * tools/sciapps/launchparams.py, which `sciapps validate`, run, launch, test and every
 * container's start-up apply (tests/site/test_params_js.py holds the two to the same
 * verdicts). A value arrives as text from a form or a link: it is bounded, refused if it
 * holds control, format or private-use characters or a `..` path segment, then read as
 * its declared type. */
(() => {
  "use strict";

  const MAX_VALUE_CHARS = 256;
  const NAME = /^[a-z][a-z0-9_]{0,31}$/;
  const INTEGER = /^[+-]?[0-9]{1,15}$/;
  const NUMBER = /^[+-]?(?:[0-9]{1,15}(?:\.[0-9]{0,15})?|\.[0-9]{1,15})(?:[eE][+-]?[0-9]{1,3})?$/;
  const DATE = /^[0-9]{4}-[0-9]{2}-[0-9]{2}$/;
  const REFUSED = /[\p{Cc}\p{Cf}\p{Co}\p{Cs}\p{Zl}\p{Zp}]/u;
  const RESERVED = new Set(["datalab", "version", "digest", "mission", "cpu", "memory_gb", "gpu", "storage_gb"]);
  const patterns = new Map();

  function regex(pattern) {
    // The whole value must match, as Python's re.fullmatch. Patterns keep to DL-066's
    // dialect, which JavaScript reads with the `u` flag as Python reads it, never without:
    // a pattern that does not compile alone with `u` (a `)` or a `[^]` that would close the
    // `^(?:…)$` wrapper) or holds `[]`/`[^]` checks nothing and every value is refused.
    if (!patterns.has(pattern)) {
      let compiled = null;
      if (typeof pattern === "string" && !/\[\^?\]/.test(pattern)) {
        try {
          new RegExp(pattern, "u");
          compiled = new RegExp(`^(?:${pattern})$`, "u");
        } catch (e) {
          compiled = null;
        }
      }
      patterns.set(pattern, compiled);
    }
    return patterns.get(pattern);
  }

  const UNCHECKABLE = "cannot be checked: its pattern is not one launch patterns allow (DL-066)";

  const DIGITS = /^\^\[0-9\]\{([0-9]{1,3})(?:,([0-9]{1,3}))?\}\$$/;

  /** [fewest, most] digits when `pattern` takes only digits (^[0-9]{n}$, ^[0-9]{n,m}$), else null. */
  function digitCount(pattern) {
    const found = typeof pattern === "string" ? DIGITS.exec(pattern) : null;
    return found ? [Number(found[1]), Number(found[2] || found[1])] : null;
  }

  /** What is wrong with `text` against an all-digit id pattern: ": 5 digits where 10 are needed". */
  function digitsHint(pattern, text) {
    const count = digitCount(pattern);
    if (count === null) return "";
    if (!/^[0-9]*$/.test(text)) return ": it holds characters other than the digits 0 to 9";
    const needed = count[0] === count[1] ? String(count[0]) : `${count[0]} to ${count[1]}`;
    return `: ${text.length} digit${text.length === 1 ? "" : "s"} where ${needed} are needed`;
  }

  /** Why `text` does not match every pattern of `spec` (the declared one, then the datalab's own), or null. */
  function patternProblem(spec, text) {
    for (const pattern of [spec.pattern, spec.own_pattern]) {
      if (pattern === undefined || pattern === null) continue;
      const compiled = regex(pattern);
      if (compiled === null) return UNCHECKABLE;
      if (!compiled.test(text)) return `is not in the expected form (${spec.form || pattern})${digitsHint(pattern, text)}`;
    }
    return null;
  }

  function hex(char) {
    return char.codePointAt(0).toString(16).toUpperCase().padStart(4, "0");
  }

  function textProblem(text, limit) {
    if (text.length > 2 * limit) return `is longer than ${limit} characters`; // UTF-16: at most 2 units a character
    const chars = Array.from(text);
    if (chars.length > limit) return `is longer than ${limit} characters`;
    for (const char of chars) if (REFUSED.test(char)) return `holds the invisible or control character U+${hex(char)}`;
    if (text.normalize("NFC") !== text) return "is not in Unicode normal form (NFC)";
    if (text.replace(/\\/g, "/").split("/").includes("..")) return "holds a `..` path segment";
    return null;
  }

  function bound(value, spec) {
    if (spec.min !== undefined && spec.min !== null && value < spec.min) return `is below the minimum ${spec.min}`;
    if (spec.max !== undefined && spec.max !== null && value > spec.max) return `is above the maximum ${spec.max}`;
    return null;
  }

  function dayExists(text) {
    const [y, m, d] = text.split("-").map(Number);
    if (y < 1 || m < 1 || m > 12 || d < 1) return false;
    const leap = y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0);
    return d <= [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][m - 1];
  }

  /** [typed value, null] or [null, why]: `why` follows the label ("Observation id …"). */
  function readValue(spec, text) {
    if (typeof text !== "string") return [null, "is not text"];
    const limit = Math.min(MAX_VALUE_CHARS, spec.max_length || MAX_VALUE_CHARS);
    const problem = textProblem(text, limit);
    if (problem) return [null, problem];
    const kind = spec.type;
    if (kind === "string") {
      if (Array.from(text).length < (spec.min_length || 0)) return [null, `is shorter than ${spec.min_length} characters`];
      const why = patternProblem(spec, text);
      return why ? [null, why] : [text, null];
    }
    if (kind === "integer" || kind === "number") {
      if (!(kind === "integer" ? INTEGER : NUMBER).test(text)) return [null, kind === "integer" ? "is not a whole number" : "is not a number"];
      const value = Number(text);
      if (!Number.isFinite(value)) return [null, "is not a finite number"];
      const why = bound(value, spec);
      return why ? [null, why] : [value, null];
    }
    if (kind === "boolean") {
      if (text !== "true" && text !== "false") return [null, "is neither true nor false"];
      return [text === "true", null];
    }
    if (kind === "choice") {
      const choices = (spec.choices || []).map(String);
      if (!choices.includes(text)) return [null, `is not one of ${choices.slice(0, 10).join(", ")}`];
      return [text, null];
    }
    if (kind === "date") {
      if (!DATE.test(text)) return [null, "is not a date (YYYY-MM-DD)"];
      if (!dayExists(text)) return [null, "is not a day that exists"];
      const why = bound(text, spec);
      return why ? [null, why] : [text, null];
    }
    return [null, `has an unknown type ${JSON.stringify(kind)}`];
  }

  function asText(value) {
    if (typeof value === "boolean") return value ? "true" : "false";
    return String(value);
  }

  function defaultText(spec) {
    if (spec.default === undefined || spec.default === null) return null;
    return typeof spec.default === "string" ? spec.default : asText(spec.default);
  }

  /** Check [[name, text], …] against the declaration: {values, problems}, each problem one sentence. */
  function readValues(specs, given) {
    const byName = new Map(specs.map((s) => [s.name, s]));
    const problems = [];
    const seen = new Map();
    for (const [name, text] of given) {
      if (!byName.has(name)) {
        const shown = NAME.test(name) ? name : JSON.stringify(String(name).slice(0, 40));
        const known = [...byName.keys()].sort().join(", ") || "none";
        problems.push(`${shown} is not a parameter of this datalab (its parameters: ${known}).`);
      } else if (seen.has(name)) {
        problems.push(`${name} is given more than once.`);
      } else {
        seen.set(name, text);
      }
    }
    const values = {};
    for (const [name, spec] of byName) {
      const label = spec.label || name;
      const text = seen.has(name) ? seen.get(name) : defaultText(spec);
      if (text === null) {
        problems.push(`${label} needs a value.`);
        continue;
      }
      const [value, why] = readValue(spec, text);
      if (why) problems.push(seen.has(name) ? `${label} ${why}.` : `${label}'s default ${why}.`);
      else values[name] = value;
    }
    return { values, problems };
  }

  window.SciAppsParams = { readValue, readValues, asText, defaultText, digitCount, RESERVED, MAX_VALUE_CHARS };
})();
