import { useState } from "react";
import { api, type Cart } from "../api/client";
import { cartId, setQuantity } from "../cart";
import { formatPrice } from "../money";
import { Feedback, useApi } from "../useApi";

export function CartPage() {
  const id = cartId();
  const loaded = useApi(
    () => api.GET("/api/v1/carts/{cart_id}", { params: { path: { cart_id: id ?? "" } } }),
    id ?? "none",
  );
  const [cart, setCart] = useState<Cart>();
  const [message, setMessage] = useState<string>();
  const shown = cart ?? loaded.data;

  async function change(sku: string, quantity: number) {
    try {
      setCart(await setQuantity(sku, quantity));
      setMessage(undefined);
    } catch (error) {
      setMessage((error as Error).message);
    }
  }

  if (!id) return <p className="empty-state">Your cart is empty. <a href="#/">Browse the catalog</a>.</p>;
  return (
    <section aria-labelledby="cart-title">
      <h1 id="cart-title">Your cart</h1>
      <Feedback message={message ?? loaded.message} />
      {shown && shown.lines.length === 0 ? <p className="empty-state">Your cart is empty.</p> : null}
      {shown && shown.lines.length ? (
        <>
          <ul className="cart-lines">
            {shown.lines.map((line) => (
              <li className="cart-line" key={line.sku}>
                <a href={`#/products/${encodeURIComponent(line.slug)}`}>{line.name}</a>
                <label htmlFor={`qty-${line.sku}`}>Quantity of {line.name}</label>
                <input id={`qty-${line.sku}`} type="number" min={0} defaultValue={line.quantity}
                  onChange={(event) => void change(line.sku, Number(event.target.value))} />
                <span className="price">{formatPrice(line.total, shown.currency)}</span>
                <button className="link-button link-button--danger" type="button" onClick={() => void change(line.sku, 0)}>
                  Remove {line.name}
                </button>
              </li>
            ))}
          </ul>
          <dl className="totals">
            <dt>Subtotal</dt><dd>{formatPrice(shown.totals.subtotal, shown.currency)}</dd>
            <dt>Shipping</dt><dd>{formatPrice(shown.totals.shipping, shown.currency)}</dd>
            <dt>Tax</dt><dd>{formatPrice(shown.totals.tax, shown.currency)}</dd>
            <dt>Total</dt><dd><strong>{formatPrice(shown.totals.total, shown.currency)}</strong></dd>
          </dl>
          <a className="button button--primary" href="#/checkout">Go to checkout</a>
        </>
      ) : null}
    </section>
  );
}
