/** The sign-in form: the admin token, once, in exchange for a session cookie. */
import type { FC } from "hono/jsx";

export const SignInPage: FC<{ next: string; error?: string; enabled: boolean }> = (p) => (
  <>
    {!p.enabled
      ? (
        <p class="flash error">
          The console is off: set ADMIN_TOKEN to turn it on.
        </p>
      )
      : (
        <form method="post" action="/admin/sign-in" class="card" style="max-width:28rem">
          {p.error && <p class="bad" role="alert">{p.error}</p>}
          <label for="token">Admin token</label>
          <p>
            <input
              type="password"
              id="token"
              name="token"
              autocomplete="current-password"
              required
              style="width:100%"
            />
          </p>
          <input type="hidden" name="next" value={p.next} />
          <button type="submit">Sign in</button>
          <p class="muted">
            The token is checked once; the browser keeps only a session cookie, which ends on
            sign-out or after a few hours.
          </p>
        </form>
      )}
  </>
);
