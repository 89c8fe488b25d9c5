import { useState } from "react";
import { api, setToken } from "../api/client";
import { describeProblem } from "../api/problems";
import { Feedback } from "../useApi";

export function SignIn({ next }: { next?: string }) {
  const [message, setMessage] = useState<string>();

  async function submit(event: React.FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const { data, error, response } = await api.POST("/api/v1/auth/token", {
      body: { username: String(form.get("username")), password: String(form.get("password")) },
    });
    if (!data) return setMessage(describeProblem(response, error));
    setToken(data.token);
    window.location.hash = `#/${next ?? "orders"}`;
  }

  return (
    <section className="auth-card card" aria-labelledby="signin-title">
      <h1 id="signin-title">Sign in</h1>
      <Feedback message={message} />
      <form onSubmit={submit}>
        <div className="field">
          <label htmlFor="username">Username</label>
          <input id="username" name="username" type="text" autoComplete="username" required />
        </div>
        <div className="field">
          <label htmlFor="password">Password</label>
          <input id="password" name="password" type="password" autoComplete="current-password" required />
        </div>
        <button className="button button--primary button--block" type="submit">Sign in</button>
      </form>
    </section>
  );
}
