import { useState } from "react";
import { token } from "../api/client";
import { placeOrder } from "../checkout";
import { Feedback } from "../useApi";

const FIELDS = [
  { name: "name", label: "Full name", autoComplete: "name", required: true },
  { name: "line1", label: "Address", autoComplete: "address-line1", required: true },
  { name: "line2", label: "Apartment, suite, etc.", autoComplete: "address-line2", required: false },
  { name: "postal_code", label: "Postal code", autoComplete: "postal-code", required: true },
  { name: "city", label: "City", autoComplete: "address-level2", required: true },
] as const;

export function Checkout() {
  const [message, setMessage] = useState<string>();
  const [busy, setBusy] = useState(false);

  // The API keeps orders for their owner, so the app checks out signed-in shoppers only.
  if (token() === null) {
    return (
      <section aria-labelledby="checkout-title">
        <h1 id="checkout-title">Checkout</h1>
        <p>Please <a href="#/signin?next=checkout">sign in to check out</a>.</p>
      </section>
    );
  }

  async function submit(event: React.FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const text = (name: string) => String(form.get(name) ?? "").trim();
    setBusy(true);
    try {
      const paymentUrl = await placeOrder(
        {
          name: text("name"),
          line1: text("line1"),
          line2: text("line2"),
          postal_code: text("postal_code"),
          city: text("city"),
          country: text("country").toUpperCase(),
        },
        text("email") || undefined,
      );
      window.location.assign(paymentUrl); // the provider's page, then back to the order
    } catch (error) {
      setMessage((error as Error).message);
      setBusy(false);
    }
  }

  return (
    <section className="card checkout" aria-labelledby="checkout-title">
      <h1 id="checkout-title">Checkout</h1>
      <Feedback message={message} />
      <form onSubmit={submit}>
        <div className="field">
          <label htmlFor="email">Email</label>
          <input id="email" name="email" type="email" autoComplete="email" aria-describedby="email-help" />
          <p className="help" id="email-help">Leave empty to use your account's email.</p>
        </div>
        {FIELDS.map((field) => (
          <div className="field" key={field.name}>
            <label htmlFor={field.name}>{field.label}</label>
            <input id={field.name} name={field.name} type="text" autoComplete={field.autoComplete} required={field.required} />
          </div>
        ))}
        <div className="field">
          <label htmlFor="country">Country code</label>
          <input id="country" name="country" type="text" autoComplete="country" required maxLength={2}
            pattern="[A-Za-z]{2}" aria-describedby="country-help" />
          <p className="help" id="country-help">Two letters, such as NL or DE.</p>
        </div>
        <button className="button button--primary button--block" type="submit" disabled={busy}>
          Place order and pay
        </button>
      </form>
    </section>
  );
}
