export function formatPrice(amount: string, currency = "EUR"): string {
  return new Intl.NumberFormat("en-GB", { style: "currency", currency }).format(Number(amount));
}
