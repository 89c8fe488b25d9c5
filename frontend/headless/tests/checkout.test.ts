import { describe, expect, it } from "vitest";
import { orderReturnUrl } from "../src/checkout";
import { SETTLED, statusLabel } from "../src/orderStatus";
import { parseRoute } from "../src/route";

describe("checkout", () => {
  it("asks the payment page to come back to the new order's page", () => {
    expect(orderReturnUrl({ origin: "http://127.0.0.1:8004", pathname: "/" })).toBe(
      "http://127.0.0.1:8004/#/orders/{order_id}",
    );
  });

  it("signs in on the way to checkout, never to another site", () => {
    expect(parseRoute("#/checkout")).toEqual({ name: "checkout" });
    expect(parseRoute("#/signin?next=checkout")).toEqual({ name: "signin", next: "checkout" });
    expect(parseRoute("#/signin?next=https://evil.example")).toEqual({ name: "signin" });
  });
});

describe("order status", () => {
  it("reads like the server-rendered order page and stops polling when settled", () => {
    expect(statusLabel("pending_payment")).toBe("Pending payment");
    expect(statusLabel("delivered")).toBe("Delivered");
    expect(SETTLED.has("delivered")).toBe(true);
    expect(SETTLED.has("shipped")).toBe(false);
  });
});
