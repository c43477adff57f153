import { apiFetch, errorText, session } from '../api';
import { h } from '../dom';

/** The token form. The token is kept in sessionStorage (this tab only), never in a URL. */
export function loginView(main: HTMLElement, message: string | undefined, done: () => void): void {
  const input = h('input', {
    id: 'token',
    name: 'token',
    type: 'password',
    autocomplete: 'off',
    spellcheck: 'false',
    required: true,
    'aria-describedby': 'token-help',
  });
  const error = h('p', { class: 'notice notice-error', role: 'alert', hidden: !message }, message ?? '');
  const submit = h('button', { type: 'submit', class: 'primary' }, 'Log in');
  const form = h(
    'form',
    { class: 'login', 'aria-labelledby': 'login-title' },
    h('h1', { id: 'login-title', tabindex: '-1' }, 'agent-r'),
    h('p', { class: 'muted' }, 'Runs, search trees and revision trajectories of this agent-r server.'),
    h('label', { for: 'token' }, 'API token'),
    input,
    h(
      'p',
      { id: 'token-help', class: 'hint' },
      h('code', null, 'agent-r serve'),
      ' prints it as API_TOKEN. It stays in this browser tab only.',
    ),
    error,
    submit,
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const token = input.value.trim();
    if (!token) return;
    submit.disabled = true;
    submit.textContent = 'Checking…';
    try {
      await apiFetch('/v1/runs?limit=1', {}, token);
      session.set(token);
      input.value = '';
      done();
    } catch (e) {
      error.hidden = false;
      error.textContent = `Could not log in: ${errorText(e)}`;
      input.focus();
    } finally {
      submit.disabled = false;
      submit.textContent = 'Log in';
    }
  });
  main.replaceChildren(form);
  input.focus();
}
