import { useEffect, useState } from "react";
import { api, type Order } from "../api/client";
import { describeProblem } from "../api/problems";
import { formatPrice } from "../money";
import { SETTLED, statusLabel } from "../orderStatus";
import { Feedback, useApi } from "../useApi";

const POLL_MS = 2000;

export function Orders() {
  const orders = useApi(() => api.GET("/api/v1/orders"), "orders");
  return (
    <section aria-labelledby="orders-title">
      <h1 id="orders-title">Your orders</h1>
      <Feedback message={orders.message} />
      <ul>
        {orders.data?.results.map((order) => (
          <li key={order.id}>
            <a href={`#/orders/${order.id}`}>Order {order.number}</a>{" "}
            <span className={`badge badge--${order.status}`}>{statusLabel(order.status)}</span>{" "}
            {formatPrice(order.total, order.currency)}
          </li>
        ))}
      </ul>
    </section>
  );
}

export function OrderPage({ id }: { id: string }) {
  const [order, setOrder] = useState<Order>();
  const [message, setMessage] = useState<string>();
  useEffect(() => {
    let timer: number | undefined;
    let live = true;
    async function poll() {
      const { data, error, response } = await api.GET("/api/v1/orders/{order_id}", {
        params: { path: { order_id: id } },
      });
      if (!live) return;
      if (data) {
        setOrder(data);
        setMessage(undefined);
        if (data.status && SETTLED.has(data.status)) return;
      } else setMessage(describeProblem(response, error));
      timer = window.setTimeout(poll, POLL_MS);
    }
    void poll();
    return () => {
      live = false;
      window.clearTimeout(timer);
    };
  }, [id]);

  return (
    <section aria-labelledby="order-title">
      <h1 id="order-title">{order ? `Order ${order.number}` : "Order"}</h1>
      <Feedback message={message} />
      {order ? (
        <>
          <p className="order-status" aria-live="polite">
            Status: <span className={`badge badge--${order.status}`} data-testid="order-status">{statusLabel(order.status)}</span>
          </p>
          <ol className="timeline" aria-label="Timeline" data-testid="order-timeline">
            {order.timeline.map((step) => (
              <li key={`${step.created_at}-${step.to_status}`}>
                {statusLabel(step.to_status)}{" "}
                <time dateTime={step.created_at}>{new Date(step.created_at).toLocaleString()}</time>
              </li>
            ))}
          </ol>
          <ul>
            {order.lines.map((line) => (
              <li key={line.sku}>{line.quantity} × {line.name}: {formatPrice(line.line_total, order.currency)}</li>
            ))}
          </ul>
          <p>Total: <strong>{formatPrice(order.total, order.currency)}</strong></p>
        </>
      ) : null}
    </section>
  );
}
