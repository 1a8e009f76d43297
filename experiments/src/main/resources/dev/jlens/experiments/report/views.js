// jlens's interactive views: plain JavaScript and SVG, no library, nothing fetched. Each view is an
// element of class jlens-view whose data-kind names its renderer and whose <script class="jlens-data">
// holds its data as JSON; hovering shows values in the view's readout (class jlens-readout).
(function () {
  'use strict';
  const SVG = 'http://www.w3.org/2000/svg';

  function number(v) {
    return Number(v).toPrecision(6);
  }

  function el(tag, attrs, parent, text) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
    if (text !== undefined) e.textContent = text;
    if (parent) parent.appendChild(e);
    return e;
  }

  function svg(tag, attrs, parent) {
    const e = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
    if (parent) parent.appendChild(e);
    return e;
  }

  /** Red for positive values, blue for negative, their strength against max. */
  function shade(v, max) {
    const a = max > 0 ? Math.min(1, Math.abs(v) / max) : 0;
    return v >= 0 ? 'rgba(220,60,30,' + a.toFixed(3) + ')' : 'rgba(40,90,220,' + a.toFixed(3) + ')';
  }

  function maxAbs(rows) {
    let m = 0;
    for (const r of rows) for (const v of r) m = Math.max(m, Math.abs(v));
    return m;
  }

  /** A token as a reader can see it: spaces and newlines made visible. */
  function show(token) {
    return token.replace(/\n/g, '\\n').replace(/ /g, '\u00b7');
  }

  function select(parent, label, options, onChange) {
    const wrap = el('label', {class: 'jlens-select'}, parent, label + ' ');
    const s = el('select', {}, wrap);
    options.forEach((o, i) => el('option', {value: String(i)}, s, o));
    s.addEventListener('change', () => onChange(Number(s.value)));
    if (options.length < 2) wrap.style.display = 'none';
    return s;
  }

  /** A row of tokens, each shaded by its value, the value in the readout on hover. */
  function tokenRow(parent, tokens, values, max, readout, label) {
    const row = el('div', {class: 'jlens-tokens'}, parent);
    if (label) el('span', {class: 'jlens-row-label'}, row, label);
    tokens.forEach((t, i) => {
      const span = el('span', {class: 'jlens-token', 'data-index': String(i), 'data-value': String(values[i])}, row, show(t));
      span.style.background = shade(values[i], max);
      span.addEventListener('mouseenter', () => {
        readout.textContent = (label ? label + ': ' : '') + '\u2018' + show(t) + '\u2019 ' + number(values[i]);
      });
    });
    return row;
  }

  function heatmapSvg(parent, values, rowLabels, colLabels, readout, describe, notes) {
    const cell = Math.max(8, Math.min(28, Math.floor(560 / Math.max(1, colLabels.length)))), left = 110, top = 90;
    const s = svg('svg', {width: left + cell * colLabels.length + 10, height: top + cell * rowLabels.length + 10, class: 'jlens-heatmap'}, parent);
    const max = maxAbs(values);
    colLabels.forEach((c, j) => {
      const t = svg('text', {x: left + j * cell + cell / 2, y: top - 6, transform: 'rotate(-60 ' + (left + j * cell + cell / 2) + ' ' + (top - 6) + ')',
        'font-size': 10}, s);
      t.textContent = c;
    });
    rowLabels.forEach((r, i) => {
      const t = svg('text', {x: left - 6, y: top + i * cell + cell * 0.7, 'text-anchor': 'end', 'font-size': 10}, s);
      t.textContent = r;
      values[i].forEach((v, j) => {
        const rect = svg('rect', {x: left + j * cell, y: top + i * cell, width: cell - 1, height: cell - 1, class: 'jlens-cell',
          'data-row': String(i), 'data-col': String(j), 'data-value': String(v), fill: shade(v, max)}, s);
        rect.addEventListener('mouseenter', () => {
          readout.textContent = describe(i, j) + ': ' + number(v) + (notes ? ' ' + notes[i][j] : '');
        });
      });
    });
    return s;
  }

  function renderHeatmap(view, d, readout) {
    if (d.title) el('div', {class: 'jlens-title'}, view, d.title);
    heatmapSvg(view, d.values, d.y, d.x, readout, (i, j) => d.yLabel + ' ' + d.y[i] + ', ' + d.xLabel + ' ' + d.x[j], d.notes);
  }

  function renderTokens(view, d, readout) {
    if (d.title) el('div', {class: 'jlens-title'}, view, d.title);
    const max = maxAbs(d.rows.map(r => r.values));
    for (const r of d.rows) tokenRow(view, r.tokens, r.values, max, readout, r.label);
  }

  /** Attention: pick a prompt, layer and head; the pattern as a heatmap; hover a token to see where it attends. */
  function renderAttention(view, d, readout) {
    if (d.title) el('div', {class: 'jlens-title'}, view, d.title);
    const controls = el('div', {class: 'jlens-controls'}, view);
    let p = 0, l = 0, h = 0;
    const strip = el('div', {class: 'jlens-tokens jlens-attention-tokens'}, view);
    const map = el('div', {}, view);
    function draw() {
      const prompt = d.prompts[p], pattern = prompt.patterns[l][h], tokens = prompt.tokens;
      strip.textContent = '';
      map.textContent = '';
      el('span', {class: 'jlens-row-label'}, strip, 'hover a token:');
      tokens.forEach((t, i) => {
        const span = el('span', {class: 'jlens-token', 'data-index': String(i)}, strip, show(t));
        span.addEventListener('mouseenter', () => {
          const row = pattern[i];
          let best = 0;
          strip.querySelectorAll('.jlens-token').forEach((other, j) => {
            const v = j < row.length ? row[j] : 0;
            other.setAttribute('data-value', String(v));
            other.style.background = shade(v, 1);
            if (v > row[best]) best = j;
          });
          readout.textContent = '\u2018' + show(t) + '\u2019 attends most to \u2018' + show(tokens[best]) + '\u2019 (position ' + best + '): ' + number(row[best]);
        });
      });
      heatmapSvg(map, pattern, tokens.map(show), tokens.map(show), readout,
          (i, j) => 'query \u2018' + show(tokens[i]) + '\u2019 (' + i + ') to key \u2018' + show(tokens[j]) + '\u2019 (' + j + ')');
    }
    select(controls, 'prompt', d.prompts.map(x => x.label), v => { p = v; draw(); });
    select(controls, 'layer', d.layers, v => { l = v; draw(); });
    select(controls, 'head', d.heads, v => { h = v; draw(); });
    draw();
  }

  /** An SAE feature's dashboard: density, histogram, top contexts, and the tokens it promotes and suppresses. */
  function renderFeature(view, d, readout) {
    el('div', {class: 'jlens-title'}, view, 'Feature ' + d.index + ': fires at ' + d.fires + ' of ' + d.positions + ' positions (density '
        + number(d.density) + '), strongest ' + number(d.max));
    const cols = el('div', {class: 'jlens-cols'}, view);
    const hist = el('div', {}, cols);
    el('div', {class: 'jlens-subtitle'}, hist, 'activations (non-zero)');
    const s = svg('svg', {width: 260, height: 110, class: 'jlens-histogram'}, hist);
    const top = Math.max(1, ...d.histogram), bar = 260 / d.histogram.length;
    d.histogram.forEach((c, b) => {
      const height = c / top * 100;
      const r = svg('rect', {x: b * bar, y: 100 - height, width: bar - 1, height: height, fill: '#e07020', 'data-value': String(c)}, s);
      r.addEventListener('mouseenter', () => {
        readout.textContent = number(d.max * b / d.histogram.length) + ' to ' + number(d.max * (b + 1) / d.histogram.length) + ': ' + c;
      });
    });
    for (const [name, list] of [['promoted', d.promoted], ['suppressed', d.suppressed]]) {
      const box = el('div', {}, cols);
      el('div', {class: 'jlens-subtitle'}, box, name + ' tokens');
      const table = el('table', {}, box);
      for (const w of list) {
        const tr = el('tr', {}, table);
        el('td', {}, tr, show(w.token));
        const td = el('td', {class: 'n', 'data-value': String(w.weight)}, tr, number(w.weight));
        td.addEventListener('mouseenter', () => { readout.textContent = name + ' \u2018' + show(w.token) + '\u2019 ' + number(w.weight); });
      }
    }
    el('div', {class: 'jlens-subtitle'}, view, 'top activating contexts');
    for (const e of d.examples) tokenRow(view, e.tokens, e.values, d.max, readout);
  }

  const renderers = {'attention': renderAttention, 'token-activations': renderTokens, 'heatmap': renderHeatmap, 'feature': renderFeature};

  function renderAll() {
    document.querySelectorAll('.jlens-view').forEach(view => {
      const data = JSON.parse(view.querySelector('script.jlens-data').textContent);
      const readout = el('div', {class: 'jlens-readout'}, null, 'hover for values');
      renderers[view.dataset.kind](view, data, readout);
      view.appendChild(readout);
      view.dataset.rendered = 'true';
    });
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', renderAll);
  else renderAll();
})();
