// Sign in (POST /api/auth/login) and register (POST /api/auth/register, then the same sign-in).
import { api, session } from './api.js';
import { byId, say, sayError } from './dom.js';

async function signIn(email, password) {
  const token = await api('POST', '/auth/login', { email, password });
  session.save(token.access_token, token.expires_in, email);
  location.assign('/app/batches');
}

/** Runs `action` on submit with the button disabled; its error goes to `message`. */
function onSubmit(form, message, action) {
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const button = form.querySelector('button[type=submit]');
    button.disabled = true;
    say(message, '');
    try {
      await action(new FormData(form));
    } catch (err) {
      sayError(message, err);
    } finally {
      button.disabled = false;
    }
  });
}

export function signInPage() {
  if (session.token() && session.expiresAt() > Date.now()) {
    location.replace('/app/batches');
    return;
  }
  const reason = new URLSearchParams(location.search).get('reason');
  if (reason) say(byId('signin-message'), reason, 'warn');

  onSubmit(byId('signin-form'), byId('signin-message'), (data) =>
    signIn(String(data.get('email')), String(data.get('password'))),
  );
  onSubmit(byId('register-form'), byId('register-message'), async (data) => {
    const email = String(data.get('email'));
    const password = String(data.get('password'));
    await api('POST', '/auth/register', { email, password, company: String(data.get('company')) });
    await signIn(email, password);
  });
}
