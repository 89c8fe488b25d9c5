import { api, type Cart } from "./api/client";
import { describeProblem } from "./api/problems";

const CART_KEY = "tessera.cart";

export function cartId(): string | null {
  return localStorage.getItem(CART_KEY);
}

export class ApiError extends Error {}

async function ensureCart(): Promise<string> {
  const known = cartId();
  if (known) return known;
  const { data, error, response } = await api.POST("/api/v1/carts");
  if (!data) throw new ApiError(describeProblem(response, error));
  localStorage.setItem(CART_KEY, data.id);
  return data.id;
}

export async function addToCart(sku: string, quantity: number): Promise<Cart> {
  const id = await ensureCart();
  const { data, error, response } = await api.POST("/api/v1/carts/{cart_id}/lines", {
    params: { path: { cart_id: id } },
    body: { sku, quantity },
  });
  if (response.status === 404) localStorage.removeItem(CART_KEY);
  if (!data) throw new ApiError(describeProblem(response, error));
  return data;
}

export async function setQuantity(sku: string, quantity: number): Promise<Cart> {
  const id = await ensureCart();
  const { data, error, response } = await api.PUT("/api/v1/carts/{cart_id}/lines/{sku}", {
    params: { path: { cart_id: id, sku } },
    body: { quantity },
  });
  if (!data) throw new ApiError(describeProblem(response, error));
  return data;
}
