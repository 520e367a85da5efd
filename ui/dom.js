// Building the DOM from data without ever parsing data as HTML: every
// string goes in as a text node. Views use `h` and nothing else.

/**
 * h('button', {class: 'primary', onclick: f, 'aria-label': 'x'}, 'text', child, [more])
 * `on…` functions become listeners; `value` is set as the property (what a
 * control holds now); everything else is an attribute, `true` meaning
 * present and `false`/null/undefined absent. Children: strings (as text),
 * nodes, arrays, null.
 */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  const entries = Object.entries(attrs || {});
  // `type` first: a value set while an input is still `text` is not the
  // value it has once it is a radio button.
  entries.sort(([a], [b]) => (b === 'type') - (a === 'type'));
  for (const [k, v] of entries) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') {
      el.addEventListener(k.slice(2), v);
    } else if (k === 'value') {
      el.value = v;
    } else {
      el.setAttribute(k, v === true ? '' : String(v));
    }
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else if (c instanceof Node) el.appendChild(c);
    else el.appendChild(document.createTextNode(String(c)));
  }
}

/** Replace every child of `el`. */
export function replace(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

/** A labelled control: <div class=field><label for=id>…</label>control</div>. */
export function field(label, control, hint) {
  return h('div', { class: 'field' },
    h('label', { for: control.id }, label),
    control,
    hint ? h('span', { class: 'hint' }, hint) : null);
}

/** <select id> with [value, label] options. */
export function select(id, options, value, onchange) {
  const s = h('select', { id, name: id, onchange });
  for (const [v, label] of options) {
    s.appendChild(h('option', { value: v, selected: v === value }, label));
  }
  return s;
}

/**
 * A modal confirmation (<dialog>): resolves with the form's values, or null
 * when cancelled. A `danger` dialog (an erasure: it cannot be undone) opens
 * with the focus on Cancel, and Enter in one of its fields does not submit
 * it: only a click (or Space/Enter) on the confirm button itself does.
 * Fields marked `required` are checked by the browser before it closes.
 */
export function confirmDialog({ title, message, confirmLabel, cancelLabel, danger, extra }) {
  return new Promise((resolve) => {
    const ok = h('button', { type: 'submit', value: 'ok', class: danger ? 'danger' : 'primary', 'data-testid': 'confirm-ok' }, confirmLabel);
    const cancel = h('button', { type: 'button', class: 'secondary', 'data-testid': 'confirm-cancel' }, cancelLabel);
    const form = h('form', { method: 'dialog' },
      h('h2', { id: 'dialog-title' }, title),
      h('p', { class: 'dialog-message', 'data-testid': 'confirm-message' }, message),
      extra || null,
      h('div', { class: 'actions' }, ok, cancel));
    const d = h('dialog', { 'aria-labelledby': 'dialog-title' }, form);
    let answer = null;
    form.addEventListener('submit', () => {
      answer = Object.fromEntries(new FormData(form).entries());
    });
    if (danger) {
      form.addEventListener('keydown', (ev) => {
        if (ev.key === 'Enter' && ev.target instanceof HTMLInputElement) ev.preventDefault();
      });
    }
    cancel.addEventListener('click', () => d.close());
    d.addEventListener('close', () => {
      d.remove();
      resolve(answer);
    });
    document.body.appendChild(d);
    d.showModal();
    (danger ? cancel : ok).focus();
  });
}
