import type { Schemas } from "./api/client";

type OrderStatus = Schemas["OrderStatusEnum"];

// What the shopper reads for the API's order statuses, as on the server-rendered order page.
export function statusLabel(status: OrderStatus | string | undefined): string {
  if (!status) return "";
  const words = status.replace(/_/g, " ");
  return words.charAt(0).toUpperCase() + words.slice(1);
}

// After these nothing changes by itself, so the order page stops polling (the contract's
// enum types the list: a renamed status fails `tsc`).
const SETTLED_STATUSES: OrderStatus[] = ["delivered", "cancelled", "refunded"];
export const SETTLED: ReadonlySet<string> = new Set(SETTLED_STATUSES);
