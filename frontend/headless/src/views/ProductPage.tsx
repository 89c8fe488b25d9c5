import { useState } from "react";
import { api } from "../api/client";
import { addToCart } from "../cart";
import { smallest, srcset } from "../images";
import { formatPrice } from "../money";
import { Feedback, useApi } from "../useApi";

export function ProductPage({ slug }: { slug: string }) {
  const product = useApi(() => api.GET("/api/v1/products/{slug}", { params: { path: { slug } } }), slug);
  const [quantity, setQuantity] = useState(1);
  const [status, setStatus] = useState<{ ok: boolean; text: string }>();
  const item = product.data;

  async function add(event: React.FormEvent) {
    event.preventDefault();
    if (!item) return;
    try {
      const cart = await addToCart(item.sku, quantity);
      setStatus({ ok: true, text: `Added to your cart (${cart.item_count} ${cart.item_count === 1 ? "item" : "items"}).` });
    } catch (error) {
      setStatus({ ok: false, text: (error as Error).message });
    }
  }

  if (!item) return <Feedback message={product.message} />;
  const image = smallest(item.images);
  return (
    <article className="product">
      <nav className="breadcrumbs" aria-label="Breadcrumb">
        <a href="#/">Catalog</a> / <span aria-current="page">{item.name}</span>
      </nav>
      {image?.url ? (
        <img src={image.url} srcSet={srcset(item.images)} sizes="(min-width: 48rem) 40vw, 100vw" alt={image.alt_text} />
      ) : null}
      <div className="details">
        <h1>{item.name}</h1>
        <p className="price price--large">{formatPrice(item.price, item.currency)}</p>
        <p>{item.description}</p>
        <p className="muted">{item.in_stock ? `${item.stock} in stock` : "Out of stock"}</p>
        <form className="add-to-cart add-to-cart--with-quantity" onSubmit={add}>
          <div className="field field--quantity">
            <label htmlFor="quantity">Quantity</label>
            <input id="quantity" type="number" min={1} max={Math.max(1, item.stock)} value={quantity}
              onChange={(event) => setQuantity(Number(event.target.value))} />
          </div>
          <button className="button button--primary" type="submit" disabled={!item.in_stock}>
            Add to cart
          </button>
        </form>
        <div aria-live="polite">
          {status ? <p className={status.ok ? "feedback feedback--success" : "feedback feedback--error"}>{status.text}</p> : null}
        </div>
      </div>
    </article>
  );
}
